"""The house rules of docs/architecture.md, checked on the source: no import cycles, no private names of
another module, one definition of each shared constant, and every module importable on its own."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import mssoracle

SRC = Path(mssoracle.__file__).resolve().parent


def _modules():
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name):
    return MODULES[name].name == "__init__.py"


def _resolve(module, node):
    """Absolute module names imported by an ``Import``/``ImportFrom`` node (inside the package only)."""
    names = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if _is_package(module) else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        for a in node.names:
            sub = f"{prefix}.{a.name}"
            names.append(sub if sub in MODULES else prefix)
    return [n for n in names if n in MODULES]


def _graph():
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        deps = set()
        for node in ast.walk(tree):  # module-level *and* lazy (function-level) imports
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(d for d in _resolve(name, node) if d != name)
        graph[name] = deps
    return graph


def test_no_import_cycles():
    graph = _graph()
    # a package importing its own submodules is not a cycle by itself; a submodule importing its parent
    # package (which imports the submodule back) is
    state, stack, cycles = {}, [], []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for d in sorted(graph[n]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_private_names_of_other_modules():
    bad = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for d in _resolve(name, node):
                    for a in node.names:
                        if a.name.startswith("_") and not a.name.startswith("__") and d != name \
                                and f"{d}.{a.name}" not in MODULES:
                            bad.append(f"{name} imports {d}.{a.name}")
    assert not bad, "; ".join(bad)


@pytest.mark.parametrize("name", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports_on_its_own(name):
    importlib.import_module(name)


def test_shared_constants_defined_once():
    """MUSDB target orders, SiSEC 2018's oracles and the accompaniment rule live in mssoracle.constants."""
    import re

    pattern = re.compile(r"^(MUSDB_TARGETS|SISEC18_ORACLES|ACCOMPANIMENT|_DERIVED|DERIVED_TARGETS)\s*=", re.M)
    owners = [name for name, path in MODULES.items() if pattern.search(path.read_text())]
    assert owners == ["mssoracle.constants"], owners


def test_subpackages_are_listed():
    assert {m.name for m in pkgutil.iter_modules(mssoracle.__path__)} >= {
        "constants", "validators", "registry", "threads", "specs", "experiment", "metrics"}


def test_no_top_level_name_defined_twice():
    """A second ``def``/``class`` of the same name silently replaces the first."""
    bad = []
    for name, path in MODULES.items():
        seen = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name in seen:
                    bad.append(f"{name}.{node.name}")
                seen.add(node.name)
    assert not bad, bad
