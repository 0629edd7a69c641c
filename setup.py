"""Builds nea_policy.engine._durable_core: durable_rules 2.0.28's C core from vendor/, with the fixes in vendor/durable_rules/PATCHES.md.

Everything else about the package is in pyproject.toml; setuptools needs this file only for the C extension.
"""

from pathlib import Path

from setuptools import Extension, setup

CORE = Path("vendor") / "durable_rules" / "src"

setup(
    ext_modules=[
        Extension(
            "nea_policy.engine._durable_core",
            sources=[str(CORE / "rulespy" / "rules.c")] + [str(CORE / "rules" / f"{name}.c") for name in ("json", "rete", "state", "events", "regex")],
            include_dirs=[str(CORE / "rules")],
            # As upstream builds it (C99, GNU extensions); the macro maps a C call removed in Python 3.13 onto its replacement.
            extra_compile_args=["-std=c99"],
            define_macros=[("_GNU_SOURCE", "1"), ("PyEval_CallObject", "PyObject_CallObject")],
        )
    ]
)
