"""Write a scenario override file (TOML) with a comment on every figure.

The document is built with tomlkit, which quotes and escapes keys and strings as TOML needs
(bed bases, teams and localities keep the names the extract gives them: spaces, apostrophes,
quotes, dots, brackets, accents), while every fitted figure keeps the comment saying where it
came from. The layout is the one sim/inputs/sources.py reads back: a table's comment on the
lines just above its header, a value's comment on the lines just above it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import tomlkit
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

KeyPath = tuple[str, ...]  # a key path, one part per table level: names may hold dots


def key_text(key: str) -> str:
    """A TOML key as written: bare if it can be, else quoted and escaped."""
    return tomlkit.key(key).as_string()


def dotted(path: KeyPath) -> str:
    """A key path as one TOML dotted key (e.g. beds.sites."St James's Hub 1".beds), for tables and messages."""
    return ".".join(key_text(part) for part in path)


def _is_inline(value: object) -> bool:
    """Values written inline (`key = { ... }`): distributions and route rules. Tested on the
    value's content, so a locality or site that happens to be called "family" stays a table."""
    if not isinstance(value, Mapping):
        return False
    return isinstance(value.get("family"), str) or ("after_days" in value and not isinstance(value["after_days"], Mapping))


def _item(value: object):
    """A Python value as a tomlkit item (nested values inline)."""
    if isinstance(value, bool):
        return tomlkit.item(value)
    if isinstance(value, int):
        return tomlkit.integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write non-finite value {value!r} to a scenario")
        return tomlkit.float_(repr(value))  # full precision: shares written must still sum to 1
    if isinstance(value, str):
        return tomlkit.string(value)
    if isinstance(value, dt.datetime):
        raise TypeError("cannot write a date-time to a scenario; expected a date")
    if isinstance(value, dt.date):
        return tomlkit.date(value.isoformat())
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        for v in value:
            array.append(_item(v))
        return array
    if isinstance(value, Mapping):
        table = tomlkit.inline_table()
        for k, v in value.items():
            if v is not None:  # TOML has no null
                table.append(str(k), _item(v))
        return table
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _comment_lines(container, text: str) -> None:
    for line in text.splitlines():
        container.add(tomlkit.comment(line))


def _has_entries(node: Mapping) -> bool:
    """Whether a table (or a table under it) holds a value to write."""
    for value in node.values():
        if value is None or value == ():
            continue
        if isinstance(value, Mapping) and not _is_inline(value):
            if _has_entries(value):
                return True
        else:
            return True
    return False


def render_scenario(data: Mapping, comments: Mapping[KeyPath, str], header: list[str], default_comment: str) -> str:
    """A whole scenario as TOML: tables in the scenario's order, every value with its comment.

    `comments` is keyed by key path (a tuple of parts, so a name with a dot is one part); a
    table's comment stands for its values; values without one get `default_comment`. Optional
    settings left as None (or empty) are left out: TOML has no null.
    """
    doc = tomlkit.document()
    for line in header:
        doc.add(tomlkit.comment(line))
    # comments above a table header belong, in tomlkit's model, to whatever was written just
    # before the header: the document or the last table with values
    last: list[TOMLDocument | Table] = [doc]

    def walk(node: Mapping, path: KeyPath, container: TOMLDocument | Table, comment: str) -> None:
        nested = []
        for key, value in node.items():
            here = (*path, str(key))
            if value is None or value == ():
                continue
            if isinstance(value, Mapping) and not _is_inline(value):
                nested.append((value, here))
                continue
            _comment_lines(container, comments.get(here, comment))
            container.add(str(key), _item(value))
        for value, here in nested:
            if not _has_entries(value):
                continue
            own = any(v is not None and v != () and not (isinstance(v, Mapping) and not _is_inline(v)) for v in value.values())
            table = tomlkit.table(is_super_table=not own)
            table_comment = comments.get(here, comment)
            if own:
                before = last[0]
                before.add(tomlkit.nl())
                if here in comments:  # a table's own comment, above its header (its values repeat it)
                    _comment_lines(before, comments[here])
                last[0] = table
            container.add(here[-1], table)
            table.trivia.indent = ""  # tomlkit puts a blank line right above a header it adds: ours is above the comment
            walk(value, here, table, table_comment)

    walk(data, (), doc, default_comment)
    return tomlkit.dumps(doc)


__all__ = ["KeyPath", "dotted", "key_text", "render_scenario"]
