"""Reading user files: TOML into a dict, and a validation error as one line naming the key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from .distributions import FAMILIES


def read_toml(path: Path) -> dict:
    """A TOML file as a dict; a missing or malformed file is an InputError."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


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
