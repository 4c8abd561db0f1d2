"""Reading the calibration extract: clean data, each quality rule, fatal errors, privacy.

Every extract is written by hand below, with faults on known rows. Row numbers are line
numbers in the file, the header being line 1, so the first data row is row 2. Expected
timestamps are worked out by hand (e.g. 10:00+01:00 is 09:00 UTC), never by the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate.extract import parse_timestamps, read_extract, write_quality_report
from sim.errors import InputError

# The data contract (docs/data-contract.md), written out here rather than taken from the reader.
SPELL_COLUMNS = ("spell_id", "person_id", "age", "admission_ts", "ready_ts", "discharge_ts", "pathway", "site")
EPISODE_COLUMNS = (
    "episode_id", "person_id", "service", "site", "source", "referral_ts", "start_ts", "end_ts", "outcome",
    "care_hours_start", "care_hours_end",
)

# Ids are distinctive strings so a scan of the report for them cannot hit row numbers or counts.
SPELLS = [
    "S-1001,P-2001,80,2024-03-01 10:00,2024-03-05 10:00,2024-03-07 10:00,P1,LGI",  # row 2: discharged
    "S-1002,P-2002,70,2024-03-02 08:00,,,,SJUH",  # row 3: in hospital, not yet ready
    "S-1003,P-2003,91,2024-03-03 09:30,,2024-03-04 12:00,died,LGI",  # row 4: died before ready
    "S-1004,P-2004,66,2024-03-04 11:00,2024-03-06 11:00,,,LGI",  # row 5: ready, still in
]
EPISODES = [
    "E-3001,P-2001,reablement,,hospital_discharge,2024-03-07 09:00,2024-03-07 12:00,2024-03-20 12:00,home,10,4",  # row 2
    "E-3002,P-2005,bed,Site A,front_door,2024-03-03 09:00,2024-03-03 12:00,,,,",  # row 3: in service
    "E-3003,P-2006,home_ward,,community,2024-03-10 09:00,,,,,",  # row 4: referral not started
]


def write(folder: Path, spells=SPELLS, episodes=EPISODES, spell_header=SPELL_COLUMNS, episode_header=EPISODE_COLUMNS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if spells is not None:
        (folder / "spells.csv").write_text(",".join(spell_header) + "\n" + "".join(r + "\n" for r in spells))
    if episodes is not None:
        (folder / "ic_episodes.csv").write_text(",".join(episode_header) + "\n" + "".join(r + "\n" for r in episodes))
    return folder


def rule(extract, file: str, name: str) -> tuple[int, list[int], str]:
    """(rows_broken, example rows, action) of one rule; the rule must appear exactly once."""
    q = extract.quality
    hit = q[(q.file == file) & (q.rule == name)]
    assert len(hit) == 1, f"{file}: rule {name!r} appears {len(hit)} times"
    row = hit.iloc[0]
    examples = [int(x) for x in row.example_rows.split(",")] if row.example_rows else []
    return int(row.rows_broken), examples, row.action


def broken_rules(extract) -> dict[tuple[str, str], int]:
    q = extract.quality
    return {(f, r): int(n) for f, r, n in zip(q.file, q.rule, q.rows_broken) if n}


T = pd.Timestamp


# --------------------------------------------------------------------------------------------- clean


def test_clean_extract_reads_with_no_broken_rules(tmp_path):
    e = read_extract(write(tmp_path))
    assert broken_rules(e) == {}
    assert list(e.quality.columns) == ["file", "rule", "rows_broken", "example_rows", "action", "note"]
    # one row per rule for each file, even at 0
    assert {"spells.csv", "ic_episodes.csv"} == set(e.quality.file)
    assert len(e.quality) > 30

    s = e.spells
    assert list(s.columns) == [*SPELL_COLUMNS, "locality"]  # the optional column, blank when not in the file
    assert list(s.index) == [2, 3, 4, 5] and s.index.name == "row"
    assert str(s.age.dtype) == "int64"
    for c in ("admission_ts", "ready_ts", "discharge_ts"):
        assert str(s[c].dtype) == "datetime64[ns]"
    assert isinstance(s.pathway.dtype, pd.CategoricalDtype)
    assert list(s.pathway.cat.categories) == ["P0", "P1", "P2", "P3", "died"]
    assert s.loc[2, "admission_ts"] == T("2024-03-01 10:00")
    assert s.loc[2, "discharge_ts"] == T("2024-03-07 10:00")
    assert pd.isna(s.loc[3, "ready_ts"]) and pd.isna(s.loc[3, "discharge_ts"]) and pd.isna(s.loc[3, "pathway"])
    assert s.loc[4, "pathway"] == "died" and pd.isna(s.loc[4, "ready_ts"])
    assert s.age.tolist() == [80, 70, 91, 66]
    assert s.spell_id.tolist() == ["S-1001", "S-1002", "S-1003", "S-1004"]

    ep = e.episodes
    assert list(ep.columns) == [*EPISODE_COLUMNS, "locality"]
    assert list(ep.index) == [2, 3, 4]
    for c in ("referral_ts", "start_ts", "end_ts"):
        assert str(ep[c].dtype) == "datetime64[ns]"
    for c in ("care_hours_start", "care_hours_end"):
        assert str(ep[c].dtype) == "float64"
    assert ep.service.tolist() == ["reablement", "bed", "home_ward"]
    assert ep.loc[2, "care_hours_start"] == 10 and ep.loc[2, "care_hours_end"] == 4
    assert ep.loc[3, "site"] == "Site A" and pd.isna(ep.loc[2, "site"])
    assert pd.isna(ep.loc[3, "end_ts"]) and pd.isna(ep.loc[3, "outcome"])
    assert pd.isna(ep.loc[4, "start_ts"])
    # the latest timestamp in either file
    assert e.extract_date == T("2024-03-20 12:00")


# --------------------------------------------------------------------------------------------- faults


def test_duplicates(tmp_path):
    spells = SPELLS + [SPELLS[0], SPELLS[1].replace(",70,", ",75,"), SPELLS[0]]  # rows 6, 7, 8
    e = read_extract(write(tmp_path, spells=spells))
    assert rule(e, "spells.csv", "exact duplicate row") == (2, [6, 8], "dropped")
    assert rule(e, "spells.csv", "duplicate spell_id with different content") == (1, [7], "dropped")
    assert list(e.spells.index) == [2, 3, 4, 5]
    assert e.spells.loc[3, "age"] == 70  # the first row kept
    assert broken_rules(e) == {("spells.csv", "exact duplicate row"): 2, ("spells.csv", "duplicate spell_id with different content"): 1}


def test_missing_and_unparseable_timestamps(tmp_path):
    spells = SPELLS + [
        "S-1005,P-2005,80,,,,,LGI",  # row 6: admission missing
        "S-1006,P-2006,80,01/03/2024 10:00,,,,LGI",  # row 7: day-first, not ISO
        "S-1007,P-2007,80,2024-03-01 10:00,2024-02-30 10:00,,,LGI",  # row 8: no such date
        "S-1008,P-2008,80,2024-03-01 10:00,,yesterday,P1,LGI",  # row 9: text
    ]
    episodes = EPISODES + [
        "E-3004,P-2001,reablement,,community,,,,,,",  # row 5: referral missing
        "E-3005,P-2001,reablement,,community,2024-03-10 09:00,2024-13-01 09:00,,,,",  # row 6: month 13
    ]
    e = read_extract(write(tmp_path, spells=spells, episodes=episodes))
    assert rule(e, "spells.csv", "missing admission_ts") == (1, [6], "dropped")
    assert rule(e, "spells.csv", "unparseable timestamp") == (3, [7, 8, 9], "dropped")
    note = e.quality.set_index(["file", "rule"]).loc[("spells.csv", "unparseable timestamp"), "note"]
    assert "admission_ts <5, ready_ts <5, discharge_ts <5" in note and "day/month/year-like values: <5" in note
    assert rule(e, "ic_episodes.csv", "missing referral_ts") == (1, [5], "dropped")
    assert rule(e, "ic_episodes.csv", "unparseable timestamp") == (1, [6], "dropped")
    assert list(e.spells.index) == [2, 3, 4, 5]
    assert list(e.episodes.index) == [2, 3, 4]


def test_mixed_time_zones_convert_to_utc(tmp_path):
    spells = [
        "S-1001,P-2001,80,2024-03-01T10:00:00+01:00,2024-03-02T09:00:00Z,2024-03-02 10:00,P1,LGI",  # row 2
        "S-1002,P-2002,80,2024-03-01T09:00:00Z,2024-03-02,,,LGI",  # row 3
        "S-1003,P-2003,80,2024-03-01 09:00,2024-03-01T23:30-05:00,2024-03-02T06:00:00.5+0100,P2,LGI",  # row 4
        "S-1004,P-2004,80,2024-03-01 09:00,,,,LGI",  # row 5
        "S-1005,P-2005,80,2024-03-01 09:00,2024-03-02 09:00,,,LGI",  # row 6
    ]
    e = read_extract(write(tmp_path, spells=spells))
    s = e.spells
    # 10:00+01:00 is 09:00Z; all three spellings of 09:00 UTC agree
    assert s.loc[2, "admission_ts"] == T("2024-03-01 09:00") == s.loc[3, "admission_ts"] == s.loc[4, "admission_ts"]
    assert s.loc[2, "ready_ts"] == T("2024-03-02 09:00")
    assert s.loc[3, "ready_ts"] == T("2024-03-02 00:00")  # a date alone is midnight
    assert s.loc[4, "ready_ts"] == T("2024-03-02 04:30")  # 23:30-05:00 is 04:30 next day UTC
    assert s.loc[4, "discharge_ts"] == T("2024-03-02 05:00:00.5")
    assert s.admission_ts.dt.tz is None
    # naive values (5 of 11) are the most common kind; rows 2, 3, 4 use another kind
    assert rule(e, "spells.csv", "mixed timestamp formats") == (3, [2, 3, 4], "corrected")
    note = e.quality.set_index(["file", "rule"]).loc[("spells.csv", "mixed timestamp formats"), "note"]
    for part in ("date-time without offset: 5", "date-time with Z: 2", "date-time with numeric offset: 3", "date only: 1"):
        assert part in note


def test_parse_timestamps_kinds():
    values = pd.Series(["2024-03-01T10:00:00+01:00", "2024-03-01T09:00:00Z", "2024-03-01 09:00", "", "01/03/2024 09:00", "2024-03-01T25:00"])
    parsed, kinds = parse_timestamps(values)
    assert parsed.iloc[0] == parsed.iloc[1] == parsed.iloc[2] == T("2024-03-01 09:00")
    assert parsed.iloc[3:].isna().all()
    assert kinds.iloc[:4].tolist() == ["date-time with numeric offset", "date-time with Z", "date-time without offset", ""]
    assert kinds.iloc[4:].isna().all()


def test_order_violations(tmp_path):
    spells = SPELLS + [
        "S-1005,P-2005,80,2024-03-05 10:00,2024-03-06 10:00,2024-03-04 10:00,P1,LGI",  # row 6: discharge < admission
        "S-1006,P-2006,80,2024-03-05 10:00,2024-03-04 10:00,,,LGI",  # row 7: ready < admission
        "S-1007,P-2007,80,2024-03-05 10:00,2024-03-08 10:00,2024-03-07 10:00,P0,LGI",  # row 8: discharge < ready
        "S-1008,P-2008,80,2024-03-05 10:00,2024-03-05 10:00,2024-03-05 10:00,P0,LGI",  # row 9: equal is fine
    ]
    episodes = EPISODES + [
        "E-3004,P-2001,bed,Site B,community,2024-03-10 09:00,2024-03-11 09:00,2024-03-10 09:00,home,,",  # row 5: end < start
        "E-3005,P-2001,bed,Site B,community,2024-03-10 09:00,2024-03-09 09:00,,,,",  # row 6: start < referral
    ]
    e = read_extract(write(tmp_path, spells=spells, episodes=episodes))
    # row 6 breaks both ready-vs-discharge and admission-vs-discharge; it counts once, under the first rule run
    assert rule(e, "spells.csv", "ready_ts before admission_ts") == (1, [7], "dropped")
    assert rule(e, "spells.csv", "discharge_ts before admission_ts") == (1, [6], "dropped")
    assert rule(e, "spells.csv", "discharge_ts before ready_ts") == (1, [8], "dropped")
    assert rule(e, "ic_episodes.csv", "start_ts before referral_ts") == (1, [6], "dropped")
    assert rule(e, "ic_episodes.csv", "end_ts before start_ts") == (1, [5], "dropped")
    assert list(e.spells.index) == [2, 3, 4, 5, 9]
    assert list(e.episodes.index) == [2, 3, 4]


def test_unknown_codes_and_pathway_discharge_mismatch(tmp_path):
    spells = SPELLS + [
        "S-1005,P-2005,80,2024-03-05 10:00,2024-03-06 10:00,2024-03-07 10:00,P4,LGI",  # row 6
        "S-1006,P-2006,80,2024-03-05 10:00,2024-03-06 10:00,2024-03-07 10:00,,LGI",  # row 7: discharged, no pathway
        "S-1007,P-2007,80,2024-03-05 10:00,2024-03-06 10:00,,P2,LGI",  # row 8: pathway, not discharged
        "S-1008,P-2008,80,2024-03-05 10:00,,2024-03-07 10:00,P1,LGI",  # row 9: live discharge, never ready
    ]
    episodes = EPISODES + [
        "E-3004,P-2001,hospice,,community,2024-03-10 09:00,,,,,",  # row 5
        "E-3005,P-2001,bed,Site A,gp,2024-03-10 09:00,,,,,",  # row 6
        "E-3006,P-2001,bed,Site A,community,2024-03-10 09:00,2024-03-10 10:00,2024-03-12 10:00,better,,",  # row 7
        "E-3007,P-2001,bed,Site A,community,2024-03-10 09:00,2024-03-10 10:00,2024-03-12 10:00,,,",  # row 8
        "E-3008,P-2001,bed,Site A,community,2024-03-10 09:00,,,home,,",  # row 9
        "E-3009,P-2001,bed,Site A,community,2024-03-10 09:00,,2024-03-12 10:00,home,,",  # row 10
        "E-3010,P-2001,,Site A,community,2024-03-10 09:00,,,,,",  # row 11: blank service
    ]
    e = read_extract(write(tmp_path, spells=spells, episodes=episodes))
    assert rule(e, "spells.csv", "unknown pathway") == (1, [6], "dropped")
    assert rule(e, "spells.csv", "pathway and discharge_ts disagree") == (2, [7, 8], "dropped")
    assert rule(e, "spells.csv", "ready_ts blank for a live discharge") == (1, [9], "dropped")
    assert rule(e, "ic_episodes.csv", "unknown service") == (2, [5, 11], "dropped")
    assert rule(e, "ic_episodes.csv", "unknown source") == (1, [6], "dropped")
    assert rule(e, "ic_episodes.csv", "unknown outcome") == (1, [7], "dropped")
    assert rule(e, "ic_episodes.csv", "outcome and end_ts disagree") == (2, [8, 9], "dropped")
    assert rule(e, "ic_episodes.csv", "end_ts without start_ts") == (1, [10], "dropped")
    note = e.quality.set_index(["file", "rule"]).loc[("spells.csv", "unknown pathway"), "note"]
    assert "'P4'" in note
    assert list(e.spells.index) == [2, 3, 4, 5]
    assert list(e.episodes.index) == [2, 3, 4]


def test_timestamps_after_extract_date(tmp_path):
    # cut-off 2024-03-06 12:00 UTC, given with an offset
    e = read_extract(write(tmp_path), extract_date="2024-03-06T13:00:00+01:00")
    assert e.extract_date == T("2024-03-06 12:00")
    assert rule(e, "spells.csv", "timestamp after extract date") == (1, [2], "dropped")  # discharge 03-07
    assert rule(e, "ic_episodes.csv", "timestamp after extract date") == (2, [2, 4], "dropped")
    assert list(e.spells.index) == [3, 4, 5]
    assert list(e.episodes.index) == [3]


def test_bad_extract_date_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"extract_date = '06/03/2024': expected an ISO 8601"):
        read_extract(write(tmp_path), extract_date="06/03/2024")


def test_ages_and_cohort(tmp_path):
    spells = SPELLS + [
        "S-1005,P-2005,eighty,2024-03-05 10:00,,,,LGI",  # row 6
        "S-1006,P-2006,121,2024-03-05 10:00,,,,LGI",  # row 7
        "S-1007,P-2007,-1,2024-03-05 10:00,,,,LGI",  # row 8
        "S-1008,P-2008,70.5,2024-03-05 10:00,,,,LGI",  # row 9
        "S-1009,P-2009,64,2024-03-05 10:00,,,,LGI",  # row 10: under the cohort age
        "S-1010,P-2010,65,2024-03-05 10:00,,,,LGI",  # row 11: 65 is in
        "S-1011,P-2011,,2024-03-05 10:00,,,,LGI",  # row 12: blank
        "S-1012,P-2012,120,2024-03-05 10:00,,,,LGI",  # row 13: 120 is in
    ]
    episodes = EPISODES + [
        "E-3004,P-2009,bed,Site A,community,2024-03-10 09:00,,,,,",  # row 5: person known only under 65
    ]
    e = read_extract(write(tmp_path, spells=spells, episodes=episodes))
    assert rule(e, "spells.csv", "age invalid") == (5, [6, 7, 8, 9, 12], "dropped")
    assert rule(e, "spells.csv", "age under 65") == (1, [10], "excluded (cohort)")
    assert rule(e, "ic_episodes.csv", "person under 65 in spells") == (1, [5], "excluded (cohort)")
    assert list(e.spells.index) == [2, 3, 4, 5, 11, 13]
    assert e.spells.age.min() == 65
    assert list(e.episodes.index) == [2, 3, 4]  # P-2005, P-2006 have no spell: kept


def test_care_hours_and_sites(tmp_path):
    episodes = EPISODES + [
        "E-3004,P-2001,reablement,,community,2024-03-10 09:00,2024-03-10 10:00,,,-3,",  # row 5: negative
        "E-3005,P-2001,bed,Site A,community,2024-03-10 09:00,2024-03-10 10:00,,,5,5",  # row 6: not reablement
        "E-3006,P-2001,reablement,,community,2024-03-10 09:00,2024-03-10 10:00,,,lots,",  # row 7: not a number
        "E-3007,P-2001,home_ward,Site A,community,2024-03-10 09:00,,,,,",  # row 8: site on a non-bed service
        "E-3008,P-2001,bed,,community,2024-03-10 09:00,,,,,",  # row 9: bed without a site
    ]
    e = read_extract(write(tmp_path, episodes=episodes))
    assert rule(e, "ic_episodes.csv", "care hours negative") == (1, [5], "corrected")
    assert rule(e, "ic_episodes.csv", "care hours for a non-reablement service") == (1, [6], "corrected")
    assert rule(e, "ic_episodes.csv", "care_hours_start not a number") == (1, [7], "dropped")
    assert rule(e, "ic_episodes.csv", "site given for a non-bed service") == (1, [8], "corrected")
    assert rule(e, "ic_episodes.csv", "site blank for a bed episode") == (1, [9], "kept")
    ep = e.episodes
    assert list(ep.index) == [2, 3, 4, 5, 6, 8, 9]
    assert pd.isna(ep.loc[5, "care_hours_start"])
    assert pd.isna(ep.loc[6, "care_hours_start"]) and pd.isna(ep.loc[6, "care_hours_end"])
    assert pd.isna(ep.loc[8, "site"]) and pd.isna(ep.loc[9, "site"])
    assert ep.loc[2, "care_hours_start"] == 10  # untouched


def test_malformed_rows_null_markers_and_blank_lines(tmp_path):
    spells = SPELLS[:2] + ["", "S-1005,P-2005,80,2024-03-05 10:00,,,LGI", "S-1006,P-2006,80,2024-03-05 10:00,NULL,NA,,LGI"]
    # the blank line is line 4, so the short row is row 5 and the NULL row is row 6
    e = read_extract(write(tmp_path, spells=spells))
    assert rule(e, "spells.csv", "malformed row (wrong number of fields)") == (1, [5], "dropped")
    assert rule(e, "spells.csv", "null marker read as blank") == (1, [6], "corrected")
    assert list(e.spells.index) == [2, 3, 6]
    assert pd.isna(e.spells.loc[6, "ready_ts"])


def test_quoted_fields_with_commas(tmp_path):
    spells = SPELLS[:1] + ['S-1002,P-2002,70,2024-03-02 08:00,,,,"St James\'s, Leeds"']
    e = read_extract(write(tmp_path, spells=spells))
    assert e.spells.loc[3, "site"] == "St James's, Leeds"


# --------------------------------------------------------------------------------------------- fatal and notes


def test_missing_required_column(tmp_path):
    header = tuple(c for c in SPELL_COLUMNS if c != "ready_ts")
    spells = [",".join(v for i, v in enumerate(r.split(",")) if i != 4) for r in SPELLS]
    write(tmp_path, spells=spells, spell_header=header)
    with pytest.raises(InputError) as info:
        read_extract(tmp_path)
    message = str(info.value)
    assert "spells.csv" in message and "ready_ts" in message and "missing" in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    write(tmp_path, episodes=None)
    with pytest.raises(InputError, match=r"ic_episodes\.csv: file not found"):
        read_extract(tmp_path)


def test_no_usable_rows_is_fatal(tmp_path):
    spells = [r.replace("2024-03", "2024/03") for r in SPELLS]
    write(tmp_path, spells=spells)
    with pytest.raises(InputError, match=r"spells\.csv: 0 usable rows of 4 read \(most by: unparseable timestamp, 4 rows\)"):
        read_extract(tmp_path)


def test_header_only_file_is_fatal(tmp_path):
    write(tmp_path, episodes=[])
    with pytest.raises(InputError, match=r"ic_episodes\.csv: 0 usable rows of 0 read"):
        read_extract(tmp_path)


def test_extra_column_is_a_note(tmp_path):
    header = SPELL_COLUMNS + ("ward",)
    spells = [r + ",W1" for r in SPELLS]
    e = read_extract(write(tmp_path, spells=spells, spell_header=header))
    assert rule(e, "spells.csv", "extra columns")[0] == 0
    note = e.quality.set_index(["file", "rule"]).loc[("spells.csv", "extra columns"), "note"]
    assert "ward" in note
    assert list(e.spells.columns) == [*SPELL_COLUMNS, "locality"]
    assert len(e.spells) == 4


def test_parquet_without_pyarrow_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as on a machine without it: import fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    write(tmp_path, spells=None)
    (tmp_path / "spells.parquet").write_bytes(b"PAR1")
    with pytest.raises(InputError, match=r"spells\.parquet: reading parquet needs pyarrow, which is not installed"):
        read_extract(tmp_path)


def test_both_csv_and_parquet_is_an_error(tmp_path):
    write(tmp_path)
    (tmp_path / "spells.parquet").write_bytes(b"PAR1")
    with pytest.raises(InputError, match=r"both spells\.csv and spells\.parquet"):
        read_extract(tmp_path)


# --------------------------------------------------------------------------------------------- report


def test_report_holds_no_identifier_values(tmp_path):
    spells = SPELLS + [
        SPELLS[0],  # exact duplicate
        "S-1001,P-2099,81,2024-03-01 10:00,,,,LGI",  # id clash
        "S-1005,P-2005,80,2024-03-05 10:00,,2024-03-07 10:00,P-2001,LGI",  # an id where a code belongs
        "S-1006,P-2006,80,2024-03-05 10:00,,2024-03-07 10:00,S-1002,LGI",
        "S-1007,P-2007,12,2024-03-05 10:00,,,,LGI",
        "S-1008,P-2008,80,bad,,,,LGI",
    ]
    episodes = EPISODES + [
        "E-3004,P-2001,E-3001,,community,2024-03-10 09:00,,,,,",  # an episode id as the service
        "E-3005,P-2007,reablement,,P-2002,2024-03-10 09:00,,,,-1,",
    ]
    e = read_extract(write(tmp_path, spells=spells, episodes=episodes))
    assert rule(e, "spells.csv", "unknown pathway")[0] == 2
    assert rule(e, "ic_episodes.csv", "unknown service")[0] == 1
    csv_path, md_path = write_quality_report(e.quality, tmp_path / "out" / "quality.csv")
    assert csv_path.exists() and md_path == tmp_path / "out" / "quality.md"
    ids = set()
    for line in spells + episodes:
        fields = line.split(",")
        ids.update(fields[:2])
    assert len(ids) > 15
    for path in (csv_path, md_path):
        text = path.read_text()
        found = sorted(i for i in ids if i in text)
        assert found == [], f"{path.name} holds identifiers {found}"
    reread = pd.read_csv(csv_path, keep_default_na=False)
    assert list(reread.columns) == ["file", "rule", "rows_broken", "example_rows", "action", "note"]
    assert reread.rows_broken.sum() == e.quality.rows_broken.sum() > 0


def test_report_suppresses_small_counts_when_asked(tmp_path):
    spells = SPELLS + [SPELLS[0]] * 2 + [SPELLS[1]] * 6  # 2 and 6 exact duplicates of two rows: 8 in all
    e = read_extract(write(tmp_path, spells=spells))
    assert rule(e, "spells.csv", "exact duplicate row") == (8, [6, 7, 8, 9, 10], "dropped")
    e2 = read_extract(write(tmp_path / "b", spells=SPELLS + [SPELLS[0]]))
    csv_path, md_path = write_quality_report(e2.quality, tmp_path / "pub.csv", suppress_small=True)
    table = pd.read_csv(csv_path, keep_default_na=False, dtype=str)
    dup = table[(table.file == "spells.csv") & (table.rule == "exact duplicate row")].iloc[0]
    assert dup.rows_broken == "<5" and dup.example_rows == ""
    assert set(table.rows_broken) <= {"0", "<5"}
    assert "| spells.csv | exact duplicate row | <5 |" in md_path.read_text()


def test_optional_locality_column_is_read_when_present(tmp_path):
    """`locality` is optional: read when the file has it (names with spaces and apostrophes
    kept), blank when it has not, and never reported as an extra column."""
    names = ["St Mary's North", "Chapel Allerton"]
    spells = [f'{row},"{names[k % 2]}"' for k, row in enumerate(SPELLS)]
    e = read_extract(write(tmp_path, spells=spells, spell_header=SPELL_COLUMNS + ("locality",)))
    assert e.spells["locality"].tolist() == [names[k % 2] for k in range(len(SPELLS))]
    assert e.episodes["locality"].isna().all()
    assert e.quality.set_index(["file", "rule"]).loc[("spells.csv", "extra columns"), "note"] == "none"
