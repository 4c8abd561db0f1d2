"""Reading user files: TOML into a dict, and a validation error as one line naming the key."""

from __future__ import annotations

import codecs
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from .distributions import FAMILIES

MAX_INPUT_BYTES = 200 * 2**20  # a scenario is kilobytes and an extract megabytes; more is a wrong file
# byte-order marks: a file saved with one (Windows editors) reads as that encoding
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_text(path: str | Path, what: str = "file") -> str:
    """A user's text file, decoded: UTF-8, or the encoding its byte-order mark names. Anything
    else (missing, a folder, unreadable, too large, another encoding) is an InputError in one
    line naming the file and saying what was expected."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"{path}: is a folder; expected a {what}")
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except OSError as exc:  # permissions, a symlink loop, a device error
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MB; expected a {what}")
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not {encoding.upper()} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "expected UTF-8: save the file as UTF-8"
        ) from None


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a missing, unreadable or malformed file is an InputError."""
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid TOML: nested too deeply; expected a scenario's few levels of tables") from None


def read_json(path: str | Path, what: str = "file") -> object:
    """A JSON file icsim wrote (a run folder's manifest or run file), as read back from a user."""
    try:
        return json.loads(read_text(path, what))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{path}: not valid JSON: {exc if isinstance(exc, json.JSONDecodeError) else 'nested too deeply'}") from None


def describe_error(path: Path, exc: ValidationError, data: dict) -> str:
    """One line: file, key path, bad value, what was expected."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [_key_part(part) for part in first["loc"] if str(part) not in FAMILIES and not str(part).startswith("function-")]
    key = ".".join(loc) or "(top level)"
    kind = first["type"]
    expected = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = f"{key}: unknown key"
    elif kind == "missing":
        message = f"{key}: missing required key"
    elif isinstance(first.get("input"), dict):  # a check on a whole table: its message names the values
        message = f"{key}: {expected}"
    else:
        message = f"{key} = {_short(first.get('input'))}: {expected}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{path}: {message}{more}"


def _key_part(part: Any) -> str:
    text = str(part)
    return text if text.isprintable() else json.dumps(text)


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_short(v, 20)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
