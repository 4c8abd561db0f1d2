"""Nothing a user hands icsim can crash it: encodings, folders, symlink loops, deep nesting,
overflowing numbers, runaway options, unwritable outputs, silent run-setting replacement and
two runs racing for one folder. Each case gets one line naming the file and the problem, exit
code 2 (1 for a full disk), and nothing written that claims to be complete.

The command is run in-process (`sim.cli.main`, as the console script calls it) so that a
corpus of cases costs milliseconds each; tests/test_cli.py runs the real console script.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import cli, workflows
from sim.errors import InputError
from sim.files import claim_out_dir, staged
from sim.inputs.loading import load_scenario

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "scenarios" / "baseline.toml"
BASELINE_TEXT = BASELINE.read_text(encoding="utf-8")
TINY = ("--replications", "1", "--years", "0.02", "--quiet")


def invoke(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `icsim ARGS`, in this process."""
    monkeypatch.setattr(sys, "argv", ["icsim", *map(str, args)])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    captured = capsys.readouterr()
    return stop.value.code, captured.out, captured.err


def assert_one_line(code: int, err: str, *parts: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"


def with_edit(old: str, new: str) -> str:
    assert old in BASELINE_TEXT, old
    return BASELINE_TEXT.replace(old, new, 1)


# -- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, prefix", [("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("utf-32", b"")])
def test_a_byte_order_mark_simply_works(tmp_path, capsys, monkeypatch, encoding, prefix):
    """Windows editors save with a BOM; UTF-16 and UTF-32 carry one, so they are unambiguous."""
    path = tmp_path / "bom.toml"
    path.write_bytes(prefix + BASELINE_TEXT.encode(encoding))
    code, _, err = invoke(capsys, monkeypatch, "validate", path)
    assert code == 0, err
    assert load_scenario(path) == load_scenario(BASELINE)


def test_latin1_is_one_line_naming_the_byte(tmp_path, capsys, monkeypatch):
    path = tmp_path / "latin1.toml"
    path.write_bytes("# St James\u2019s café\n".encode("cp1252") + BASELINE_TEXT.encode("utf-8"))
    code, _, err = invoke(capsys, monkeypatch, "validate", path)
    assert_one_line(code, err, str(path), "not UTF-8", "save the file as UTF-8")


# -- the wrong kind of file ---------------------------------------------------------------------


def test_a_folder_where_a_scenario_is_expected(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    code, _, err = invoke(capsys, monkeypatch, "run", folder, *TINY, "--out", tmp_path / "out")
    assert_one_line(code, err, str(folder), "is a folder")
    assert not (tmp_path / "out").exists()


def test_extends_a_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "parent").mkdir()
    path = tmp_path / "child.toml"
    path.write_text('extends = "parent"\n')
    code, _, err = invoke(capsys, monkeypatch, "validate", path)
    assert_one_line(code, err, "parent", "is a folder")


def test_a_symlink_loop(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    code, _, err = invoke(capsys, monkeypatch, "validate", tmp_path / "a.toml")
    assert_one_line(code, err, "a.toml", "loop")


def test_absurdly_deep_nesting(tmp_path, capsys, monkeypatch):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    code, _, err = invoke(capsys, monkeypatch, "validate", path)
    assert_one_line(code, err, str(path), "nested too deeply")


def test_a_run_folder_reproduces_its_run_and_another_folder_is_refused(tmp_path, capsys, monkeypatch):
    code, _, err = invoke(capsys, monkeypatch, "run", "baseline", *TINY, "--out", tmp_path / "first")
    assert code == 0, err
    code, _, err = invoke(capsys, monkeypatch, "validate", tmp_path / "first")
    assert code == 0, err
    (tmp_path / "empty").mkdir()
    code, _, err = invoke(capsys, monkeypatch, "validate", tmp_path / "empty")
    assert_one_line(code, err, "empty", "is a folder", "manifest.json")


# -- numbers that overflow and runaway requests --------------------------------------------------

OVERFLOWS = {
    "rate": (("rate_per_day = 72.0", "rate_per_day = 1e308"), "arrivals.rate_per_day"),
    "warm_up": (("warmup_days = 180", "warmup_days = 1000000000000"), "run.warmup_days"),
    "stay": (("los = { family = \"lognormal\", mean = 5.0, sd = 3.0 }", "los = { family = \"lognormal\", mean = 1e300, sd = 3.0 }"),
             "home_ward.los"),
    "capacity": (("capacity = 365", "capacity = 2000000000"), "reablement.capacity"),
    "replications": (("replications = 30", "replications = 1000000000000000000000"), "run.replications"),
}


@pytest.mark.parametrize("case", sorted(OVERFLOWS))
def test_numbers_that_would_overflow_or_run_for_ever(tmp_path, capsys, monkeypatch, case):
    (old, new), key = OVERFLOWS[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(with_edit(old, new))
    code, _, err = invoke(capsys, monkeypatch, "run", path, "--quiet", "--out", tmp_path / "out")
    assert_one_line(code, err, str(path), key)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value, says", [
    ("--replications", str(10**30), "at most 10000"),
    ("--workers", "100000", "--scheduler"),
    ("--years", "1e9", "at most 50"),
])
def test_runaway_options_are_capped_before_anything_runs(tmp_path, capsys, monkeypatch, option, value, says):
    code, _, err = invoke(capsys, monkeypatch, "run", "baseline", option, value, "--quiet", "--out", tmp_path / "out")
    assert_one_line(code, err, option, says)
    assert not (tmp_path / "out").exists()


# -- where the output goes -----------------------------------------------------------------------


def test_out_under_a_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "a_file").write_text("x")
    code, _, err = invoke(capsys, monkeypatch, "run", "baseline", *TINY, "--out", tmp_path / "a_file" / "run")
    assert_one_line(code, err, "a_file")


@pytest.mark.parametrize("error, expected_code", [(errno.EACCES, 2), (errno.EROFS, 2), (errno.ENOSPC, 1)])
def test_an_unwritable_or_full_disk_leaves_nothing_complete(tmp_path, capsys, monkeypatch, error, expected_code):
    """Root ignores a read-only folder, so the disk's refusal is simulated where the tables are written."""
    import pandas as pd

    formats = pd.DataFrame.to_csv

    def refuse(self, path=None, *args, **kwargs):
        if path is None:  # formatting rows as text (the weekly lines a worker packs) touches no disk
            return formats(self, None, *args, **kwargs)
        raise OSError(error, os.strerror(error), str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    out = tmp_path / "run"
    code, _, err = invoke(capsys, monkeypatch, "run", "baseline", *TINY, "--out", out)
    assert_one_line(code, err, os.strerror(error), expected_code=expected_code)
    assert not (out / "manifest.json").exists()  # what is left is a resumable run, not a finished one


# -- silent surprises in compare -----------------------------------------------------------------


def test_compare_says_which_of_a_scenarios_run_settings_it_replaces(tmp_path):
    import datetime as dt

    own = load_scenario("homefirst").with_run(seed=7, start_date=dt.date(2026, 4, 1))
    surge = load_scenario("winter_surge")  # capacity changes in December and March
    notes: list[str] = []
    outcome = workflows.compare("baseline", [own, surge], replications=1, years=0.05, notify=notes.append)
    assert outcome.comparison.baseline.seed == load_scenario("baseline").run.seed
    said = "\n".join(notes)
    assert "run.seed = 7" in said and "run.start_date = 2026-04-01" in said and "baseline's are used" in said
    # the baseline's 0.05 years end in May: the surge's December and March changes never happen
    assert "winter_surge" in said and "never takes effect" in said
    assert "run.years" not in said  # set for all on the command line: nothing replaced


# -- two runs, one folder ------------------------------------------------------------------------


def test_two_runs_cannot_claim_one_folder(tmp_path, monkeypatch):
    """Both runs found the folder empty (the check passed for both); only one may own it."""
    claim_out_dir(tmp_path / "run", "run.json")
    monkeypatch.setattr("sim.files.check_out_dir", lambda out: None)  # the second checked before the first claimed
    with pytest.raises(InputError, match="another run has just started"):
        claim_out_dir(tmp_path / "run", "run.json")


def test_two_staged_folders_never_merge(tmp_path):
    out = tmp_path / "compare"
    with pytest.raises(InputError, match="another run wrote this folder"), staged(out) as first:
        (first / "a.csv").write_text("first\n")
        with staged(out) as second:
            (second / "b.csv").write_text("second\n")
    assert sorted(p.name for p in out.iterdir()) == ["b.csv"]  # the second finished first: its files only
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


# -- fuzz: mutated scenario files ------------------------------------------------------------------

BASE_DOC = tomlkit.parse(BASELINE_TEXT).unwrap()


def _paths(data, prefix=()):
    """Every key path in a parsed scenario (tables and values)."""
    for key, value in data.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


PATHS = list(_paths(BASE_DOC))
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1e308, -1e308, 1e-308, 0.0, -0.0]),
    st.text(max_size=20), st.sampled_from(["St James's", "unlimited", "nan", "inf", "1e999", "../../etc", "Chapeltown Sainte-Anné"]),
    st.lists(st.integers(min_value=-5, max_value=10**12), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _mutate(data: dict, path: tuple, value) -> dict:
    import copy

    out = copy.deepcopy(data)
    table = out
    for key in path[:-1]:
        table = table[key]
    if value is None:
        del table[path[-1]]
    else:
        table[path[-1]] = value
    return out


ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "truncated", "noise")


def _encode(text: str, how: str, cut: float) -> bytes:
    if how == "truncated":
        data = text.encode("utf-8")
        return data[: int(len(data) * cut)]
    if how == "noise":
        data = bytearray(text.encode("utf-8"))
        data[int(len(data) * cut) % max(len(data), 1)] = 0xFF
        return bytes(data)
    return text.encode(how, errors="replace")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=ODD_VALUES, how=st.sampled_from(ENCODINGS), cut=st.floats(0, 1))
def test_fuzzed_scenarios_get_one_line_or_load(tmp_path, capsys, monkeypatch, path, value, how, cut):
    """Any mutation of the shipped baseline (a value's type or size, a key removed, the whole
    file re-encoded, truncated or corrupted) either loads or is one error line with exit 2,
    and `run` writes nothing for it."""
    try:
        text = tomlkit.dumps(_mutate(BASE_DOC, path, value))
    except (TypeError, ValueError):  # a value TOML cannot hold: mutate the text instead
        text = BASELINE_TEXT.replace("=", "= [", 1)
    scenario = tmp_path / "fuzzed.toml"
    scenario.write_bytes(_encode(text, how, cut))
    code, _, err = invoke(capsys, monkeypatch, "validate", scenario)
    if code == 0:
        return
    assert_one_line(code, err, str(scenario))
    out = tmp_path / "never"
    code, _, err = invoke(capsys, monkeypatch, "run", scenario, "--quiet", "--out", out)
    assert_one_line(code, err, str(scenario))
    assert not out.exists()


# -- fuzz: mutated extracts ----------------------------------------------------------------------

EXTRACT_FILES = ("spells.csv", "ic_episodes.csv")


@pytest.fixture(scope="module")
def small_extract(tmp_path_factory) -> Path:
    """A small synthetic extract: the first 300 rows of each file."""
    folder = tmp_path_factory.mktemp("extract")
    workflows.synth(folder / "x", years=0.3, seed=3)
    for name in EXTRACT_FILES:
        lines = (folder / "x" / name).read_text(encoding="utf-8").splitlines()[:301]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


CELLS = st.one_of(st.text(max_size=12), st.sampled_from(["", "NaN", "-1", "1e308", "2031-02-30T25:61:00", "31/12/2024",
                                                          "P3", "hub_1", "St James's", "\u00e9", '"', ",", "\n"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(EXTRACT_FILES), kind=st.sampled_from(["cell", "drop_column", "duplicate_column", "short_row",
                                                                  "header_only", "encoding", "truncated", "noise"]),
       row=st.integers(0, 300), column=st.integers(0, 11), cell=CELLS, how=st.sampled_from(ENCODINGS), cut=st.floats(0, 1))
def test_fuzzed_extracts_get_one_line_or_read(tmp_path, small_extract, name, kind, row, column, cell, how, cut):
    """Any mutation of an extract file (a cell's value, a column dropped or repeated, a short row,
    no data, another encoding, truncation, a corrupt byte) is read (the quality rules count what
    they drop) or refused with one InputError line naming the file; never another exception."""
    from sim.calibrate.extract import read_extract

    folder = tmp_path / "extract"
    folder.mkdir(exist_ok=True)
    for each in EXTRACT_FILES:
        (folder / each).write_bytes((small_extract / each).read_bytes())
    lines = [line.split(",") for line in (small_extract / name).read_text(encoding="utf-8").splitlines()]
    r, c = row % len(lines), column % len(lines[0])
    if kind == "cell":
        lines[r][c % len(lines[r])] = cell
    elif kind == "drop_column":
        lines = [line[:c] + line[c + 1 :] for line in lines]
    elif kind == "duplicate_column":
        lines = [[*line, line[c]] for line in lines]
    elif kind == "short_row":
        lines[r] = lines[r][:c]
    elif kind == "header_only":
        lines = lines[:1]
    text = "\n".join(",".join(line) for line in lines) + "\n"
    (folder / name).write_bytes(_encode(text, how if kind == "encoding" else kind if kind in ("truncated", "noise") else "utf-8", cut))
    try:
        read_extract(folder)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and str(folder) in message, message
