"""Loading a scenario: TOML with `extends`, the population CSV, a census file, or a run's manifest.

A scenario file may start with `extends = "other.toml"` and override only what changes (tables
merge key by key; a distribution, an array or a value replaces the parent's whole). Paths in a
file (`extends`, `arrivals.population.file`, `run.census`) are relative to the file naming them.
`extends` may also name a shipped scenario (`extends = "baseline"`: a bare name, no suffix or
folder, when no such file lies beside the child), so a file made elsewhere (a web-app variant)
works wherever icsim is installed.
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError
from .census import read_census
from .library import LIBRARY, library_file, resolve_scenario, scenario_names
from .reading import describe_error, read_json, read_text, read_toml
from .scenario import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (`extends`) and validate a scenario file, or the library scenario of that
    name (`baseline`). Raises InputError on bad input.

    A run folder's manifest.json is accepted too: its resolved scenario (with the seed,
    replications and years that run used) reproduces that run exactly.
    """
    path = resolve_scenario(path)
    if path.is_dir():  # a run folder reproduces its run; any other folder is a mistake
        if not (path / "manifest.json").is_file():
            raise InputError(f"{path}: is a folder; expected a scenario file, a library scenario or a run folder (with manifest.json)")
        path = path / "manifest.json"
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: file not found; expected a scenario file or a library scenario "
                         f"({', '.join(scenario_names())})")
    if path.suffix == ".json":
        return _from_manifest(path)
    return _validated(path, _read_merged(path, chain=()))


def load_scenario_text(path: str | Path, text: str) -> Scenario:
    """The scenario a file at `path` holding `text` would load to (its `extends` and relative
    paths read from path's folder), without writing it: a file about to be saved is checked."""
    path = Path(path)
    return _validated(path, _read_merged(path, chain=(), text=text))


def _validated(path: Path, data: dict) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_error(path, exc, data)) from None
    if scenario.run.census is not None and not scenario.run.census_rows:  # a bad census stops the load
        rows = read_census(scenario.run.census, scenario)
        data["run"]["census_rows"] = [(r.place, r.site, r.days_so_far) for r in rows]
        scenario = Scenario.model_validate(data)
    return scenario


def extends_file(path: Path, parent: str) -> Path:
    """The file `extends = parent` in the file `path` names: beside `path`, or, for a bare name
    (no suffix, no folder) with no such file beside it, the shipped scenario of that name."""
    beside = path.parent / parent
    if beside.exists() or beside.is_symlink():
        return beside
    name = Path(parent)
    if not name.suffix and len(name.parts) == 1 and "\\" not in parent and (LIBRARY / f"{parent}.toml").is_file():
        return library_file(f"{parent}.toml")
    return beside


def _resolve_census(data: dict, path: Path) -> None:
    """`run.census` is relative to the file that names it (as `extends` is): made absolute here."""
    run = data.get("run")
    if isinstance(run, dict) and isinstance(run.get("census"), str):
        run["census"] = str((path.parent / run["census"]).resolve())


def _from_manifest(path: Path) -> Scenario:
    manifest = read_json(path, "run manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("scenario"), dict):
        raise InputError(f"{path}: scenario: missing; expected a run folder's manifest.json")
    try:  # JSON mode: dates arrive as ISO text
        return Scenario.model_validate_json(json.dumps(manifest["scenario"]))
    except ValidationError as exc:
        raise InputError(describe_error(path, exc, manifest["scenario"]).replace(f"{path}: ", f"{path}: scenario.", 1)) from None


def scenario_from_dict(data: dict, source: str = "<dict>") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_error(Path(source), exc, data)) from None


POPULATION_COLUMNS = ("year", "age_band", "variant", "population", "source")


def _read_population(data: dict, scenario_path: Path) -> None:
    """Fill arrivals.population's table from its CSV (path relative to the scenario file)."""
    arrivals = data.get("arrivals")
    population = arrivals.get("population") if isinstance(arrivals, dict) else None
    if not isinstance(population, dict) or not isinstance(population.get("file"), str) or "years" in population:
        return
    path = scenario_path.parent / population["file"]
    where = f"{scenario_path}: arrivals.population.file = {population['file']!r}"
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{where}: file not found ({path})")
    text = read_text(path, "population file")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    if not rows or tuple(rows[0].keys()) != POPULATION_COLUMNS:
        found = ", ".join(rows[0].keys()) if rows else "no rows"
        raise InputError(f"{path}: columns {found}; expected {', '.join(POPULATION_COLUMNS)}")
    variant = population.get("variant")
    table: dict[str, dict[int, float]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            year, value = int(row["year"]), float(row["population"])
        except (TypeError, ValueError):
            raise InputError(
                f"{path}: row {line}: year = {row['year']!r}, population = {row['population']!r}: expected a year and a number"
            ) from None
        if not value >= 0 or math.isinf(value):
            raise InputError(f"{path}: row {line}: population = {row['population']!r}: expected a number >= 0")
        if row["variant"] == variant:
            if year in table.setdefault(row["age_band"], {}):
                raise InputError(f"{path}: row {line}: {year} {row['age_band']} {variant} appears twice")
            table[row["age_band"]][year] = value
    if not table:
        variants = sorted({row["variant"] for row in rows})
        raise InputError(f"{where}: variant = {variant!r}: not in the file; expected one of {', '.join(variants)}")
    years = sorted(next(iter(table.values())))
    for band, values in table.items():
        if sorted(values) != years or years != list(range(years[0], years[-1] + 1)):
            raise InputError(f"{path}: age band {band!r}, variant {variant!r}: expected one row for every year {years[0]}-{years[-1]}")
    population["years"] = years
    population["by_band"] = {band: [values[y] for y in years] for band, values in table.items()}


def _read_merged(path: Path, chain: tuple[Path, ...], text: str | None = None) -> dict:
    """The file's data merged onto what it extends; `text`: the file's text, not yet written."""
    try:
        resolved = path.resolve()
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        raise InputError(f"{path}: cannot read the file: a loop of symbolic links") from None
    if resolved in chain:
        raise InputError(f"{path}: extends: circular reference ({' -> '.join(p.name for p in chain + (resolved,))})")
    data = read_toml(path) if text is None else _parse_toml(path, text)
    _read_population(data, path)
    _resolve_census(data, path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(f"{path}: extends = {parent!r}: expected a file name (string)")
    base = _read_merged(extends_file(path, parent), chain + (resolved,))
    return _merge(base, data)


def _parse_toml(path: Path, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        # a distribution ({family = ...}) replaces the parent's whole: its keys depend on the family
        if isinstance(value, dict) and "family" not in value and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


