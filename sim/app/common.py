"""What the app's pages share: the workspace, the scenarios to choose from, a background job's
progress, and the view of a finished folder (the answer first, then tables, charts, downloads).

Everything shown is read from sim.workflows, sim.jobs and the outputs' readers; nothing here
computes a figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from .. import jobs
from ..errors import InputError
from ..experiment.kpis import KPI_BY_ID
from ..files import zip_folder
from ..inputs.library import scenario_names
from ..outputs.report_folder import Folder, load_folder
from ..outputs.report_parts import Named, answers, kpi_table
from .server import DEFAULT_WORKSPACE, WORKSPACE_ENV

PAGES = {  # the pages' files, for st.switch_page
    "scenarios": "views/scenarios.py",
    "compare": "views/compare.py",
    "blueprint": "views/blueprint.py",
    "calibrate": "views/calibrate.py",
    "runs": "views/runs.py",
}
SUBFOLDERS = ("scenarios", "uploads", "runs", "jobs")
WORKERS = max(1, min(4, os.cpu_count() or 1))  # processes a run of the app uses (results are the same for any number)


def workspace() -> Path:
    """The server's workspace (ICSIM_WORKSPACE, set by `icsim app`), with its subfolders."""
    folder = Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()
    for sub in SUBFOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def scenario_choices(space: Path) -> dict[str, str]:
    """Label shown -> reference passed on: the shipped library by name, then the workspace's
    saved scenarios by file (paths are made here, never taken from the browser)."""
    choices = {name: name for name in scenario_names()}
    for path in sorted((space / "scenarios").glob("*.toml")):
        choices[f"{path.stem} (saved)"] = str(path)
    return choices


@st.cache_data(show_spinner=False, max_entries=64)
def _loaded(reference: str, stamp: float):
    from ..workflows import validate

    return validate(reference)


def load(reference: str):
    """The validated scenario a choice names (cached until its file changes)."""
    path = Path(reference)
    return _loaded(reference, path.stat().st_mtime if path.is_file() else 0.0)


def describe(reference: str) -> str:
    """A scenario's description, or why it cannot be used (a saved file may have been edited)."""
    try:
        return load(reference).meta.description
    except InputError as exc:
        return f"not usable: {exc}"


def page_header(title: str, question: str) -> None:
    st.title(title)
    st.caption(question)


# ---------------------------------------------------------------------------------------------
# background jobs


def job_progress(job_folder: Path) -> jobs.Job:
    """A job's state; while it runs, a progress bar refreshed every second, and the page reruns
    once it ends (so nothing stale stays on screen)."""

    @st.fragment(run_every=1.0)
    def poll() -> None:
        job = jobs.read(job_folder)
        if job.state != "running":
            st.rerun()
        done = f"{job.done} of {job.total}" if job.total else f"{job.done}"
        st.progress(job.fraction or 0.0, text=f"{job.label}: running ({done} done)…")
        if st.button("Stop this run", key=f"cancel-{job.id}"):
            jobs.cancel(job_folder)
            st.rerun()

    job = jobs.read(job_folder)
    if job.state == "running":
        poll()
    for message in job.messages:
        st.warning(message)
    if job.state == "failed":
        st.error(f"{job.label}: {job.error}")
    elif job.state == "cancelled":
        st.info(f"{job.label}: stopped before it finished.")
    return job


def latest_job(space: Path, kind: str, wanted: str | None = None) -> jobs.Job | None:
    """The job the URL names (it survives a refresh), else the newest of this kind."""
    found = [j for j in jobs.jobs(space) if j.kind == kind]
    for job in found:
        if job.id == wanted:
            return job
    return found[0] if found else None


def start_job(space: Path, kind: str, label: str, **arguments) -> jobs.Job | None:
    """Start a background job and remember it in the URL; a refused start is shown, not raised."""
    try:
        job = jobs.start(space, kind, label, **arguments)
    except InputError as exc:
        st.error(str(exc))
        return None
    st.query_params["job"] = job.id
    return job


# ---------------------------------------------------------------------------------------------
# a finished folder


def _frame(table) -> pd.DataFrame:
    """A report table (sim/outputs/report_parts.Table) as a data frame, KPI names as text."""
    rows = [[c.text if isinstance(c, Named) else c for c in row.cells] for row in table.rows]
    return pd.DataFrame(rows, columns=table.head)


def show_answer(folder: Folder) -> None:
    """The compare report's first screen: per scenario, the net benefit with its interval and
    what it means, the people, the flow changes."""
    for answer in answers(folder):
        net = answer["net"]
        with st.container(border=True):
            st.subheader(f"{answer['scenario']} against {answer['baseline']}")
            st.metric("Net benefit a year (central)", net["central"],
                      help="Savings minus the cost of the capacity added, a year; docs/benefit.md says how it is valued.")
            st.markdown(f"**90% interval {net['low']} to {net['high']}.** {answer['meaning']}")
            st.caption(f"The interval holds the simulation's error and the uncertainty of the unit costs; one simulated "
                       f"year ranges {net['year_p10']} to {net['year_p90']} (10th to 90th percentile). Largest drivers: "
                       + ", ".join(f"{name} {value}" for name, value in answer["drivers"]) + ".")
            if answer["people"]:
                st.markdown("**People a year:** " + "; ".join(f"{d}: {c}" for d, c in answer["people"]) + ".")
            if answer["changes"]:
                st.markdown("**Flow, baseline → scenario** (paired 95% confidence):")
                st.dataframe(pd.DataFrame([{
                    "KPI": c["kpi"].text, "baseline": c["baseline"], "scenario": c["scenario"], "unit": c["unit"],
                    "difference [95% CI]": c["difference"] + ("" if c["clear"] else " (no clear change)")}
                    for c in answer["changes"]]), hide_index=True)


def show_folder(path: Path, key: str) -> None:
    """A run, compare or plan folder: the answer first, then KPI tables, charts and downloads."""
    try:
        folder = load_folder(path)
    except InputError as exc:
        _show_other(path, key, str(exc))
        return
    show_answer(folder)
    downloads(path, key)
    pairs = [(kpi, "total") for kpi in dict.fromkeys(folder.stats["kpi"]) if kpi in KPI_BY_ID]
    table = kpi_table(folder, pairs)
    if table is not None:
        with st.expander("Every KPI, with 95% confidence intervals" + (" and paired differences" if folder.kind == "compare" else ""),
                         expanded=folder.kind == "run"):
            st.dataframe(_frame(table), hide_index=True)
    charts = sorted((path / "report_charts").glob("*.png"), key=lambda c: ("benefit" not in c.name, c.name)) or sorted(path.glob("*.png"))
    if charts:
        with st.expander(f"Charts ({len(charts)})", expanded=True):
            for chart in charts:
                st.image(str(chart), caption=chart.stem.split("-", 1)[-1].replace("-", " ").replace("_", " "))


def _show_other(path: Path, key: str, why: str) -> None:
    """A plan or calibration folder (not a report folder): its tables as they are."""
    tables = sorted(path.glob("*.csv"))
    if not tables:
        st.error(why)
        return
    downloads(path, key)
    for table in tables:
        st.markdown(f"**{table.stem.replace('_', ' ')}**")
        st.dataframe(pd.read_csv(table), hide_index=True)


def downloads(path: Path, key: str) -> None:
    """The folder as a zip, and its workbook, report and params.toml when it has them."""
    columns = st.columns(4)
    columns[0].download_button("Download the folder (zip)", zip_folder(path), f"{path.name}.zip", "application/zip",
                               key=f"zip-{key}")
    for column, (name, mime, label) in zip(columns[1:], (
        ("benefit.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Download the workbook"),
        ("report.html", "text/html", "Download the HTML report"),
        ("params.toml", "application/toml", "Download params.toml"),
    )):
        if (path / name).is_file():
            column.download_button(label, (path / name).read_bytes(), f"{path.name}-{name}", mime, key=f"{name}-{key}")
