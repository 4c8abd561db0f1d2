"""The project carries its own sources: nothing points at reference notes outside the repository,
and every bracketed citation id ([000], [SitRep], [PSSRU-2024], ...) is defined in docs/sources.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"
# names of the reference notes and seed folders that lived beside the repository, never in it
OUTSIDE = ("../shared", "shared/seeds", "shared/reference", "seed-facts", "demand-and-flow-figures", "anchors-",
           "unit-costs.md", "perf-engines")
# a citation id: three digits (the Leeds seed documents) or a key starting with a capital letter,
# with optional hyphenated parts: [000], [SitRep], [ONS-SNPP], [NCC-2024-25]
CITATION = re.compile(r"\[(\d{3}|[A-Z][A-Za-z]*(?:-[A-Za-z0-9]+)*)\]")
DEFINITION = re.compile(r"^\|\s*\[(\d{3}|[A-Z][A-Za-z]*(?:-[A-Za-z0-9]+)*)\]\s*\|", re.MULTILINE)
TABLE_HEADER = re.compile(r"^\s*\[[^\]]*\]\s*(#.*)?$")  # a TOML [table], not a citation


def tracked_files() -> list[Path]:
    # the tests run from a git checkout (make test, CI): without one this fails rather than
    # skipping, so the check can never pass by not looking
    done = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True)
    return [ROOT / name for name in done.stdout.decode().split("\0") if name and not name.startswith("tests/")]


def defined_ids() -> set[str]:
    return set(DEFINITION.findall(SOURCES.read_text(encoding="utf-8")))


def citing_text(path: Path) -> str:
    """The prose of a file where citations live: Markdown without code, or a scenario file without
    its [table] header lines."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
        return re.sub(r"`[^`\n]*`", "", text)
    return "\n".join(line for line in text.splitlines() if not TABLE_HEADER.match(line))


def undefined_citations(texts: dict[str, str], defined: set[str]) -> list[str]:
    return [f"{name}: [{cid}]" for name, text in texts.items() for cid in CITATION.findall(text) if cid not in defined]


def citing_files() -> list[Path]:
    return [p for p in tracked_files()
            if p.suffix == ".md" or (p.suffix == ".toml" and p.relative_to(ROOT).parts[0] == "scenarios")]


def test_no_tracked_file_points_outside_the_repository():
    found = []
    for path in tracked_files():
        if path.is_symlink() or not path.is_file():
            continue  # a link (sim/library -> scenarios) is read through its target
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        found += [f"{path.relative_to(ROOT)}: {name}" for name in OUTSIDE if name in text]
    assert found == []


def test_sources_defines_the_seed_documents_and_each_id_once():
    text = SOURCES.read_text(encoding="utf-8")
    ids = DEFINITION.findall(text)
    assert len(ids) == len(set(ids)), "an id is defined twice"
    assert {"000", "001", "002", "003", "004", "SitRep"} <= set(ids)
    assert [f"V{i}" for i in range(1, 19)] == re.findall(r"^\|\s*(V\d+)\s*\|", text, flags=re.MULTILINE)


def test_every_citation_in_scenarios_and_docs_is_defined_in_sources():
    files = citing_files()
    assert ROOT / "scenarios" / "baseline.toml" in files and SOURCES in files
    texts = {str(p.relative_to(ROOT)): citing_text(p) for p in files}
    assert sum(len(CITATION.findall(t)) for t in texts.values()) > 50  # the check is not vacuous
    assert undefined_citations(texts, defined_ids()) == []


def test_an_undefined_citation_is_reported(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("Beds [004] and [SitRep]; a made-up [XYZ-999]; code `list[Path]` is not a citation.\n")
    scenario = tmp_path / "x.toml"
    scenario.write_text("[beds]  # a table\nbeds = 40  # [NOPE] says so\n")
    texts = {"x.md": citing_text(doc), "x.toml": citing_text(scenario)}
    assert undefined_citations(texts, defined_ids()) == ["x.md: [XYZ-999]", "x.toml: [NOPE]"]
