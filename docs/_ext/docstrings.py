"""Griffe extension: render the package's docstring conventions as Markdown.

The docstrings follow Keras' style (see STYLE.md): interactive examples as ``>>>``
lines and a "Call arguments:" block. Markdown would render ``>>>`` as nested block
quotes and run the call arguments together, so this extension rewrites the text the
API pages see (never the source):

- each run of ``>>>``/``...`` lines, with the output lines that follow it, becomes a
  fenced ``pycon`` block;
- each ``name: description`` line of a "Call arguments:" block becomes a list item;
- an argument documented together with others (``a, b: description``) is listed once
  per name, so each gets its own row with its own default.
"""
import re

import griffe

_PROMPT = re.compile(r"^(?P<indent>\s*)(>>>|\.\.\.)( |$)")
_ITEM = re.compile(r"^(?P<indent>\s+)(?P<name>[\w, *]+): (?P<text>.*)$")
_ARGS = ("Args:", "Arguments:", "Parameters:")


def _indent(line):
    return len(line) - len(line.lstrip())


def markdown(text):
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        prompt = _PROMPT.match(line)
        if prompt and line.lstrip().startswith(">>>"):
            indent = prompt["indent"]
            block = []
            while i < len(lines) and lines[i].strip():  # prompts and their output
                block.append(lines[i][len(indent):])
                i += 1
            out += [f"{indent}```pycon", *(indent + l for l in block), f"{indent}```"]
            continue
        out.append(line)
        i += 1
        if line.strip() == "Call arguments:":
            header = _indent(line)
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > header):
                item = _ITEM.match(lines[i])
                out.append(f"{item['indent']}- `{item['name']}`: {item['text']}" if item else lines[i])
                i += 1
        elif line.strip() in _ARGS:
            header = _indent(line)
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > header):
                item, i = _ITEM.match(lines[i]), i + 1
                if not item or "," not in item["name"]:
                    out.append(lines[i - 1])
                    continue
                more = []  # the grouped item's continuation lines
                while i < len(lines) and lines[i].strip() and _indent(lines[i]) > len(item["indent"]):
                    more.append(lines[i])
                    i += 1
                for name in item["name"].split(","):
                    out += [f"{item['indent']}{name.strip()}: {item['text']}", *more]
    return "\n".join(out)


class DocstringMarkdown(griffe.Extension):
    def on_package(self, *, pkg, loader, **kwargs):
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = markdown(obj.docstring.value)


def _objects(obj):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)
