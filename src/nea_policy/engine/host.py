"""durable_rules, with its C core rebuilt from patched sources (vendor/durable_rules/PATCHES.md).

The `durable` package from PyPI supplies the Python layer (hosts, rulesets, action dispatch); its module global
`durable_rules_engine` is pointed at nea-policy's own build of the C core, which fixes a memory corruption in
fact retraction. Every ruleset created after this import, in this process, runs on the patched core.
"""

from __future__ import annotations

import durable.engine as _durable_engine

from nea_policy.engine import _durable_core as core

_durable_engine.durable_rules_engine = core  # the Ruleset methods look the module up at call time

Host = _durable_engine.Host

__all__ = ["Host", "core"]
