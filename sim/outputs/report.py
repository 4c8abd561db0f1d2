"""One self-contained HTML report of a run folder (`icsim run`) or a compare folder (`icsim compare`).

The report embeds every chart as a base64 PNG (no network, no scripts) and writes each chart as
PNG and SVG into `<report stem>_charts/` beside it, for slides. It shows only what the folder
holds: a figure the KPIs do not give is named as "not available from this run's KPIs".

The folder is read by report_folder; the answer and each section's tables and charts are
prepared as plain data by report_parts and report_sections (text already written as people read
it); the HTML is the Jinja2 templates in templates/: base.html.j2 the page, run.html.j2 and
compare.html.j2 its opening, sections.html.j2 the sections, macros.html.j2 the pieces they share.
Autoescape is on: names of sites, teams and scenarios come from user files.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..errors import InputError
from ..files import staged, write_atomic
from .display import kpi_value as fmt
from .report_folder import OCCUPANCY_WARNING, Folder, load_folder, warnings
from .report_parts import Chart, Charts, answers
from .report_sections import Sections

SECTIONS = (
    ("system", "System"),
    ("beds", "Short-term beds"),
    ("reablement", "Reablement"),
    ("hospital", "Hospital"),
    ("home-ward", "Home Ward"),
    ("finance", "Finance"),
    ("blueprint", "Blueprint"),
    ("assumptions", "Assumptions"),
)
NOT_AVAILABLE = "not available from this run's KPIs"
__all__ = ["SECTIONS", "Folder", "charts_dir", "default_out", "fmt", "load_folder", "render", "warnings", "write_report"]


@functools.cache
def environment():
    """The report's templates, shipped in the package (package data), every one autoescaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=PackageLoader("sim", "outputs/templates"),
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    # our own fixed sentence: written as it reads ("run's", not "run&#39;s"), so it can be searched for
    env.globals.update(not_available=Markup(NOT_AVAILABLE), occupancy_warning=f"{OCCUPANCY_WARNING:.0%}")
    return env


def render(folder: Folder) -> tuple[str, list[Chart]]:
    """The report's HTML and its charts."""
    charts = Charts()
    warning_list = warnings(folder)
    sections = Sections(folder, charts)  # the charts are numbered in the order the sections draw them
    bodies = {sid: getattr(sections, sid.replace("-", "_"))() for sid, _ in SECTIONS if sid != "assumptions"}
    bodies["assumptions"] = sections.assumptions(warning_list)
    if folder.kind == "run":
        title = f"icsim report: {folder.series[0]}"
    else:
        title = f"icsim report: {', '.join(folder.series[1:])} vs {folder.series[0]}"
    m = folder.manifest
    page = environment().get_template(f"{folder.kind}.html.j2").render(
        title=title, folder=str(folder.path), series=folder.series, sections=SECTIONS, bodies=bodies,
        answers=answers(folder), warnings=warning_list,
        run={key: m.get(key, "?") for key in ("replications", "years", "seed", "icsim_version", "git_commit")})
    return page, charts.items


def default_out(folder: Path) -> Path:
    folder = Path(folder)
    return folder.parent / f"{folder.resolve().name}-report.html"


def charts_dir(out: Path) -> Path:
    return out.with_name(out.stem + "_charts")


def write_report(folder: Path, out: Path | None = None) -> Path:
    """Read the folder, render the report and write `out` and `<out stem>_charts/` (PNG and SVG of
    each chart). Nothing is written if the folder cannot be read."""
    out = Path(out) if out is not None else default_out(folder)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {out}: expected an .html file")
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; expected an .html file")
    loaded = load_folder(folder)
    page, items = render(loaded)
    with staged(charts_dir(out), replace=True) as staging:
        for chart in items:
            (staging / f"{chart.slug}.png").write_bytes(chart.png)
            (staging / f"{chart.slug}.svg").write_bytes(chart.svg)
    write_atomic(out, page)
    return out
