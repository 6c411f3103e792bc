"""The import graph of src/cpteach, read from the source with ast: dependencies point down the stages of the
package docstring (``cpteach.LAYERS``), there is no cycle, and no import inside a function (a lazy import)
breaks either rule; no library module is longer than about 450 lines."""
import ast
import pathlib

import pytest

import cpteach

SRC = pathlib.Path(cpteach.__file__).parent
MAX_LINES = 460


def _module_name(path):
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path):
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def import_graph():
    """module -> {(imported cpteach module, line, lazy)} for every module of src/cpteach."""
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text())
        lazy_lines = {n.lineno for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                      for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.split(".")[0] == "cpteach"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _package(path).split(".")
                    base = base[:len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != "cpteach":
                    continue
                # ``from pkg import submodule`` imports the submodule; ``from module import name`` the module
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in files else module for a in node.names]
            else:
                continue
            edges |= {(t, node.lineno, node.lineno in lazy_lines) for t in targets}
        graph[name] = edges
    return graph


def _stage(module):
    """The stage of a module: its top-level name below cpteach (cpteach.asymptotics.kernel -> asymptotics)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


GRAPH = import_graph()


def test_every_module_belongs_to_a_stage():
    stages = {_stage(m) for m in GRAPH} - {None}
    listed = {s for layer in cpteach.LAYERS for s in layer}
    assert stages == listed, f"not in cpteach.LAYERS: {stages - listed}; listed but missing: {listed - stages}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "cpteach"))
def test_imports_point_down_the_stages(module):
    level = {s: i for i, layer in enumerate(cpteach.LAYERS) for s in layer}
    own = _stage(module)
    for target, line, lazy in sorted(GRAPH[module]):
        if _stage(target) == own:
            continue                                 # inside one subpackage: checked by the cycle test
        assert target != "cpteach", f"{module}:{line} imports the package root (import the module itself)"
        assert level[_stage(target)] < level[own], (
            f"{module}:{line} imports {target}{' lazily' if lazy else ''}, but {_stage(target)} is not below "
            f"{own} in cpteach.LAYERS")


def test_no_import_cycle():
    graph = {m: {t for t, _, _ in edges if t in GRAPH} for m, edges in GRAPH.items()}
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_checks_catch_a_cycle_and_an_upward_import():
    """The rules above can fail: a made-up upward import and a made-up cycle are reported."""
    level = {s: i for i, layer in enumerate(cpteach.LAYERS) for s in layer}
    assert not level[_stage("cpteach.asymptotics.kernel")] < level[_stage("cpteach.problems")]
    edges = {t for t, _, _ in GRAPH["cpteach.reproduce"]}
    assert "cpteach.learning" in edges                              # so learning -> reproduce would be a cycle
    assert "cpteach.reproduce" not in {t for t, _, _ in GRAPH["cpteach.learning"]}


def test_problems_use_only_the_first_stages():
    stages = {_stage(t) for t, _, _ in GRAPH["cpteach.problems"]}
    assert stages <= {"operators", "prox", "chambolle_pock", "images", "_validate"}


@pytest.mark.parametrize("path", sorted(p for p in SRC.rglob("*.py")), ids=lambda p: _module_name(p))
def test_modules_are_a_few_hundred_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_module_name(path)} has {lines} lines: split it by concept (DESIGN.md)"
