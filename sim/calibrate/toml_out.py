"""Write a scenario override file (TOML) with a comment on every figure.

A small emitter for the shapes scenarios use (numbers, strings, dates, arrays of numbers,
inline distribution tables); TOML writers in libraries drop comments, and here every fitted
figure must say where it came from.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field


@dataclass
class Entry:
    key: str
    value: object
    comment: str = ""


@dataclass
class Section:
    name: str  # dotted table name as written, keys quoted where needed, e.g. 'localities."North West"'
    entries: list[Entry] = field(default_factory=list)
    comment: str = ""

    def add(self, key: str, value: object, comment: str = "") -> None:
        self.entries.append(Entry(key, value, comment))


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key_text(key: str) -> str:
    """A TOML key: bare if it can be, else quoted (real names have spaces and apostrophes)."""
    return key if _BARE.match(key) else '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write non-finite value {value!r} to a scenario")
        return repr(value)  # full precision: shares written must still sum to 1
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key_text(k)} = {value_text(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def render(header: list[str], top: list[Entry], sections: list[Section]) -> str:
    lines = [f"# {line}" if line else "#" for line in header]
    for entry in top:
        lines += _entry(entry)
    for section in sections:
        lines.append("")
        if section.comment:
            lines += [f"# {line}" for line in section.comment.splitlines()]
        lines.append(f"[{section.name}]")
        for entry in section.entries:
            lines += _entry(entry)
    return "\n".join(lines) + "\n"


def _entry(entry: Entry) -> list[str]:
    comment = [f"# {line}" for line in entry.comment.splitlines()] if entry.comment else []
    return comment + [f"{key_text(entry.key)} = {value_text(entry.value)}"]


def render_scenario(data: dict, comments: dict[str, str], header: list[str], default_comment: str) -> str:
    """A whole scenario as TOML: tables in the scenario's order, every value with its comment
    (`comments` by dotted path, a table's comment standing for its values; values without one
    get `default_comment`)."""
    top: list[Entry] = []
    sections: list[Section] = []

    def walk(node: dict, path: str, table: str, comment: str) -> None:
        section = Section(table) if path else None
        nested = []
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if value is None or value == ():  # optional settings left out (TOML has no null)
                continue
            if isinstance(value, dict) and "family" not in value and "after_days" not in value:
                nested.append((value, here, f"{table}.{key_text(key)}" if table else key_text(key)))
                continue
            entry = Entry(key, value, comments.get(here, comment))
            (section.entries if section else top).append(entry)
        if section and section.entries:
            sections.append(section)
        for value, here, name in nested:
            walk(value, here, name, comments.get(here, comment))

    walk(data, "", "", default_comment)
    return render(header, top, sections)
