"""The package's import graph has no cycle, and neither the package nor the recipes edit
`sys.path`.

The graph is built from the source (`ast`), not by importing: every `import` / `from ...
import` statement of a module, at any depth (imports inside functions count: a lazy
import that closes a cycle still couples the two modules), whose target lies in
`keras_events`. An edge goes to the most specific module named: `from keras_events.ops
import egru` -> `keras_events.ops.egru`, `from keras_events.ops import get` ->
`keras_events.ops`. Parent packages are not added as implicit targets (every submodule
would otherwise close a cycle with an `__init__` that re-exports it). Modules loaded by
name at run time (`importlib.import_module`, e.g. the op registry loading the op modules
that register into it) are plugins, not import statements, and are left out.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "keras_events"


def _module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package_dir):
    """{module name: path} of every .py file under `package_dir`."""
    root = package_dir.parent
    return {_module_name(p, root): p for p in sorted(package_dir.rglob("*.py"))}


def _imported_names(tree, module, is_package):
    """Dotted names each import statement of `tree` refers to (with `from` names joined)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                yield f"{base}.{alias.name}"


def import_graph(package_dir):
    """{module: set of keras_events modules it imports} for the package at `package_dir`."""
    modules = _modules(package_dir)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = set()
        for dotted in _imported_names(tree, name, path.name == "__init__.py"):
            # The longest prefix that is a module of the package.
            parts = dotted.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in modules:
                    if candidate != name:
                        targets.add(candidate)
                    break
        graph[name] = targets
    return graph


def find_cycle(graph):
    """One cycle as a list of modules `[a, b, ..., a]`, or None."""
    state = {}  # module -> "open" (on the DFS stack) or "done"
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_graph_builder_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "keras_events"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from keras_events.sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "sub" / "b.py").write_text("import numpy\nfrom ..a import f\n")
    graph = import_graph(pkg)
    assert graph["keras_events.a"] == {"keras_events.sub.b"}
    assert graph["keras_events.sub"] == {"keras_events.sub.b"}
    assert graph["keras_events.sub.b"] == {"keras_events.a"}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {
        "keras_events.a", "keras_events.sub.b"}


def test_no_import_cycle_in_keras_events():
    graph = import_graph(ROOT / PACKAGE)
    assert "keras_events.export.converter" in graph and graph["keras_events.export.converter"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _sys_path_edits(tree):
    """Line numbers of statements that change `sys.path` (calls on it, assignments to it)."""
    def is_sys_path(node):
        return (isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and is_sys_path(node.func.value):
            yield node.lineno
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(is_sys_path(t) or (isinstance(t, ast.Subscript) and is_sys_path(t.value))
                   for t in targets):
                yield node.lineno
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "addsitedir":
            yield node.lineno


def test_sys_path_detector():
    edits = sorted(_sys_path_edits(ast.parse(
        "import sys\nsys.path.insert(0, 'x')\nprint(sys.path)\nsys.path[:0] = ['y']\n")))
    assert edits == [2, 4]


@pytest.mark.parametrize("folder", ["keras_events", "recipes"])
def test_no_sys_path_edits(folder):
    offenders = [f"{path.relative_to(ROOT)}:{line}"
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 for line in _sys_path_edits(ast.parse(path.read_text(), filename=str(path)))]
    assert not offenders, f"sys.path edited at {offenders}; import through the package instead"
