"""The package's shape: layers that import only downwards (import-linter), no import cycles, few top-level modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "nea_policy"
LAYERS = ("model", "language", "engine", "analysis", "render", "authoring", "service", "web")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every import between nea_policy's modules, function-level and TYPE_CHECKING imports included."""
    return grimp.build_graph("nea_policy", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_is_in_an_import_cycle(graph: grimp.ImportGraph) -> None:
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    class Fake:
        modules = {"a", "b", "c"}

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return {"a": {"b"}, "b": {"c"}, "c": {"a"}}[module]

    assert _cycles(Fake()) == [["a", "b", "c"]]  # type: ignore[arg-type]


def test_lint_imports_keeps_the_layers_contract() -> None:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert command, "import-linter is part of the test extra"
    result = subprocess.run([command, "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_module_reaching_up_a_layer_breaks_the_contract(graph: grimp.ImportGraph) -> None:
    """What the contract forbids, seen in the graph: no layer imports one above it."""
    order = ["errors", "model", "language", "engine", "analysis", ("render", "authoring"), "api", "web", "service", "cli"]
    rank = {}
    for position, layer in enumerate(order):
        for name in layer if isinstance(layer, tuple) else (layer,):
            rank[f"nea_policy.{name}"] = position
    upward = []
    for module in graph.modules:
        top = ".".join(module.split(".")[:2])
        for imported in graph.find_modules_directly_imported_by(module):
            target = ".".join(imported.split(".")[:2])
            if top in rank and target in rank and rank[target] > rank[top]:
                upward.append(f"{module} -> {imported}")
            if top in rank and target in rank and top != target and rank[target] == rank[top]:
                upward.append(f"{module} -> {imported} (siblings)")
    assert upward == []


def test_few_modules_remain_at_the_package_top() -> None:
    top = sorted(p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p.suffix == ".so"))
    assert len(top) <= 8, top
    assert {"__init__.py", "api.py", "cli.py", "errors.py"} <= set(top)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_says_what_it_is_and_what_it_may_import(layer: str) -> None:
    text = (PACKAGE / layer / "__init__.py").read_text(encoding="utf-8")
    first = text.strip().split("\n")[0]
    assert first.startswith('"""') and "import" in first, first
