"""Where each scenario figure comes from: the comments written beside it in the scenario files.

Every default figure carries a source or "assumption" as a TOML comment (on its line, in the
block just above it, or just under its table's header). This reads them back, key path by key
path, following `extends` as the loader does (a file beside it, or a shipped scenario by name;
a file's own comments win over its parent's), so run manifests and reports can show each
figure with its source.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from .loading import extends_file
from .reading import read_text


def scenario_sources(path: str | Path) -> dict[str, str]:
    """Key path (e.g. "home_ward.capacity", or a table such as "acute.discharge_weekday") ->
    the comment documenting it, for a scenario file and the files it extends."""
    path = Path(path)
    text = read_text(path)
    data = tomllib.loads(text)
    parent = data.pop("extends", None)
    own = _comments(text)
    if not isinstance(parent, str):
        return own
    sources = scenario_sources(extends_file(path, parent))
    # a figure this file sets replaces the parent's, and so does its source: never show the
    # parent's comment beside this file's value
    for leaf in _leaves(data):
        sources[leaf] = source_of(own, leaf) or f"set in {path.name} (see its header)"
    sources.update(own)
    return sources


def _leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        here = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _leaves(value, here)
        else:
            yield here


def sources_for(path: str | Path) -> dict[str, str]:
    """The sources of a scenario file, or those recorded in a run manifest (.json) given as the
    scenario; {} when the file cannot be read (a source table is documentation, not input)."""
    path = Path(path)
    try:
        if path.suffix == ".json":
            recorded = json.loads(path.read_text(encoding="utf-8")).get("sources", {})
            return recorded if isinstance(recorded, dict) else {}
        return scenario_sources(path)
    except (OSError, ValueError):
        return {}


def source_of(sources: dict[str, str], key_path: str) -> str:
    """The comment of a key path, or of the nearest table above it that has one ("" if none)."""
    parts = re.sub(r"\[\d+\]", "", key_path).split(".")
    for end in range(len(parts), 0, -1):
        found = sources.get(".".join(parts[:end]))
        if found:
            return found
    return ""


def _split(line: str, mark: str) -> tuple[str, str] | None:
    """(before, after) the first `mark` outside a quoted string, or None."""
    quote, escaped = "", False
    for i, char in enumerate(line):
        if quote:
            escaped = (not escaped and char == "\\" and quote == '"')
            if char == quote and not escaped:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == mark:
            return line[:i], line[i + 1 :]
    return None


def _inline_comment(line: str) -> str:
    """The text after a # that is not inside a string."""
    parts = _split(line, "#")
    return parts[1].strip() if parts else ""


def _key_path(toml_text: str) -> str | None:
    """The dotted path a header (`[a."b c"]`) or key (`"St James's" =`) names, read by a TOML
    parser so quotes, escapes, dots and brackets inside names are understood; None if not one."""
    try:
        node = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        parts.append(key)
    return ".".join(parts) or None


def _header(line: str) -> str | None:
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    before = _split(stripped, "#")
    return _key_path((before[0] if before else stripped).strip() + "\n")


def _key(line: str) -> tuple[str, str] | None:
    """(key path, the text after =) of a `key = value` line."""
    parts = _split(line, "=")
    if parts is None or not parts[0].strip():
        return None
    path = _key_path(parts[0].strip() + " = 0\n")
    return (path, parts[1]) if path else None


def _comments(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    table = ""
    pending: list[str] = []
    after_header = False  # no key yet since the table header (comments there describe the table)
    depth = 0  # open brackets of a multi-line array
    for line in text.splitlines():
        stripped = line.strip()
        if depth > 0:
            depth += line.count("[") - line.count("]")
            continue
        if not stripped:
            if not after_header:
                pending = []
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        header = _header(line)
        if header:
            table = header
            own = [*pending, _inline_comment(line)]
            if any(own):
                out[table] = " ".join(c for c in own if c)
            pending, after_header = [], True
            continue
        key = _key(line)
        if key:
            name, value = key
            path = f"{table}.{name}" if table else name
            if pending and after_header and table:
                out[table] = " ".join([out.get(table, ""), *pending]).strip()
                pending = []
            comment = " ".join(c for c in [*pending, _inline_comment(line)] if c)
            if comment:
                out[path] = comment
            pending, after_header = [], False
            depth = value.count("[") - value.count("]") if value.strip().startswith("[") else 0
    return out
