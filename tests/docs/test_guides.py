"""Every ```python block of the documentation (docs/**/*.md) runs, so the guides cannot rot.

Each page is one test: its blocks run in order in one fresh namespace, in a temporary
working directory, with tracebacks pointing at the page's own line numbers. A block
preceded by the comment ``<!-- docs-test: slow -->`` (emulated board, long training)
only runs in the page's ``[slow]`` variant (marked ``slow``: ``make test-all``), which
runs all the page's blocks; the default variant runs the others. No block is skipped
silently: an unknown marker is a collection error.

Blocks use public API only (checked below): the pages double as the public surface's
smoke test and must survive refactors of the package's internals. Every name in a public
module's `__all__` has its entry in the API reference (docs/api/).
"""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<value>[\w-]+)\s*-->\s*$")
MARKERS = {"slow"}
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")


class Block:
    def __init__(self, page, line, code, markers):
        self.page, self.line, self.code, self.markers = page, line, code, markers


def blocks_of(path):
    """The ```python blocks of the markdown file `path`, with their first line and markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i, pending = [], 0, set()
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            if m["value"] not in MARKERS:
                raise ValueError(f"{path}:{i + 1}: unknown docs-test marker {m['value']!r} "
                                 f"(known: {sorted(MARKERS)})")
            pending.add(m["value"])
            i += 1
            continue
        fence = FENCE_OPEN.match(lines[i])
        if not fence:
            if lines[i].strip():
                pending = set()  # a marker applies to the block right after it
            i += 1
            continue
        indent, start = fence["indent"], i + 1
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start}: unclosed code fence")
        if fence["lang"] == "python":
            body = [l[len(indent):] if l.startswith(indent) else l for l in lines[start:i]]
            found.append(Block(path, start + 1, "\n".join(body) + "\n", pending))
        pending = set()
        i += 1
    return found


def pages():
    return sorted(p for p in DOCS.rglob("*.md"))


def _params():
    params = []
    for page in pages():
        blocks = blocks_of(page)
        if not blocks:
            continue
        name = str(page.relative_to(DOCS))
        fast = [b for b in blocks if "slow" not in b.markers]
        if fast:
            params.append(pytest.param(fast, id=name))
        if len(fast) < len(blocks):
            params.append(pytest.param(blocks, id=f"{name}[slow]", marks=pytest.mark.slow))
    return params


def run_blocks(blocks):
    """Execute `blocks` in order in a fresh namespace; line numbers are the page's."""
    import keras

    keras.utils.clear_session()
    namespace = {"__name__": "__docs__"}
    for block in blocks:
        # Padding with empty lines keeps tracebacks on the markdown file's line numbers.
        source = "\n" * (block.line - 1) + block.code
        exec(compile(source, str(block.page), "exec"), namespace)
    return namespace


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("blocks", _params())
def test_page_runs(blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files written by the examples land in a scratch folder
    run_blocks(blocks)


PUBLIC_MODULES = {"keras_events", "keras_events.sparsity", "keras_events.export",
                  "keras_events.micro", "keras_events.ops", "keras_events.surrogates",
                  "keras_events.training", "keras_events.learning"}


def _private_uses(code):
    """Names under `keras_events` in `code` that are not reached through a public path."""
    bad = []
    for node in ast.walk(ast.parse(code)):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        bad += [m for m in modules if m.split(".")[0] == "keras_events" and m not in PUBLIC_MODULES]
    for m in re.finditer(r"\b(keras_events(?:\.\w+)*)", code):
        parts = m[1].split(".")
        prefixes = [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
        deepest = max((p for p in prefixes if p in PUBLIC_MODULES), key=len)
        # After the deepest public module at most one (public) name may follow.
        if len(parts) - len(deepest.split(".")) > 1 or any(p.startswith("_") for p in parts):
            bad.append(m[1])
    return bad


def test_examples_use_public_api_only():
    """A block that imports an internal module would break when the package is restructured."""
    bad = [f"{page.relative_to(ROOT)}:{block.line}: {name}"
           for page in pages() for block in blocks_of(page) for name in _private_uses(block.code)]
    assert not bad, "examples must use public paths only:\n" + "\n".join(bad)
    assert _private_uses("from keras_events.cells import EGRU\nimport keras_events.export.converter\n"
                         "keras_events.export._build.x") == [
        "keras_events.cells", "keras_events.export.converter", "keras_events.export._build.x"]


def test_api_reference_covers_public_names():
    """Every name a public module exports has an entry (``::: module.name``) in docs/api/."""
    import importlib

    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: ([\w.]+)", page.read_text(encoding="utf-8"), re.M))
    def resolve(path):  # the object an entry documents (a name may be re-exported)
        module_name, _, name = path.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            return None

    documented_objects = [resolve(path) for path in documented]
    missing = []
    for module_name in sorted(PUBLIC_MODULES - {"keras_events.surrogates"}):
        module = importlib.import_module(module_name)
        missing += [f"{module_name}.{name}" for name in module.__all__
                    if f"{module_name}.{name}" not in documented
                    and not any(getattr(module, name) is obj for obj in documented_objects)]
    assert not missing, "add these to a page of docs/api/: " + ", ".join(missing)


def test_every_guide_has_code():
    """The collector sees the guides' examples (a broken parser must not pass silently)."""
    for page in sorted((DOCS / "guides").glob("*.md")):
        assert blocks_of(page), f"{page.relative_to(ROOT)} has no ```python example"


def test_examples_fit_the_page():
    """Code lines longer than 80 characters scroll sideways in the site's content column."""
    long = [f"{page.relative_to(ROOT)}:{block.line + k}"
            for page in pages() for block in blocks_of(page)
            for k, line in enumerate(block.code.splitlines()) if len(line) > 80]
    assert not long, "python lines over 80 characters:\n" + "\n".join(long)


def test_collector_honours_markers(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\na = 1\n```\n\n<!-- docs-test: slow -->\n```python\n"
                    "b = a + 1\n```\n\n```sh\necho no\n```\n\n  ```python\n  c = 3\n  ```\n")
    blocks = blocks_of(page)
    assert [(b.line, b.code, b.markers) for b in blocks] == [
        (4, "a = 1\n", set()), (9, "b = a + 1\n", {"slow"}), (17, "c = 3\n", set())]
    assert run_blocks(blocks)["b"] == 2
    page.write_text("<!-- docs-test: sometimes -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="unknown docs-test marker"):
        blocks_of(page)
