"""The shipped scenario library (package data): scenarios, cost tables, censuses, population.

In a checkout it is the top-level `scenarios/` folder (`sim/library` links to it); after
`pip install icsim` it travels inside the package, so `icsim run baseline` and the default
cost table work from any folder.
"""

from __future__ import annotations

import os
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "library"
DEFAULT_COSTS = "costs/default.toml"
DEFAULT_BASE = "baseline.toml"


def library_file(name: str) -> Path:
    """A file of the library, as a path relative to the working folder when it lies below it
    (so manifests written in a checkout read `scenarios/...`), else absolute."""
    path = (LIBRARY / name).resolve()
    try:
        return Path(os.path.relpath(path)) if path.is_relative_to(Path.cwd()) else path
    except ValueError:  # another drive (Windows)
        return path


def scenario_names() -> list[str]:
    """The library's scenarios, by name (file name without .toml)."""
    return sorted(p.stem for p in LIBRARY.glob("*.toml"))


def resolve_scenario(given: str | Path) -> Path:
    """A scenario file: `given` if it is a file (or names a folder or suffix: a path), else the
    library scenario of that name (`baseline` -> the shipped baseline.toml). A name that is
    neither is returned as given, so the loader reports it as not found."""
    path = Path(given)
    if path.is_file() or path.suffix or len(path.parts) != 1:
        return path
    candidate = LIBRARY / f"{path.name}.toml"
    return library_file(candidate.name) if candidate.is_file() else path
