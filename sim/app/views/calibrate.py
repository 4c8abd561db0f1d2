"""Calibrate: upload a historic extract (spells.csv, ic_episodes.csv), see its data quality and the
fit against the history, download params.toml, run it."""

import datetime as dt

import pandas as pd
import streamlit as st

from sim.app.common import PAGES, WORKERS, downloads, job_progress, latest_job, page_header, start_job, workspace
from sim.app.server import MAX_UPLOAD_MB
from sim.errors import InputError

EXTRACT_FILES = ("spells.csv", "ic_episodes.csv", "manifest.json")  # docs/data-contract.md; manifest.json optional

space = workspace()
uploads = space / "uploads"
page_header("Calibrate", "Does the model reproduce our own history? Fit a scenario to an extract of spells and "
            "intermediate-care episodes, check it week by week, then use it.")


def extracts() -> list:
    return sorted((p for p in uploads.iterdir() if (p / "spells.csv").is_file()), reverse=True)


with st.expander("Add an extract", expanded=not extracts()):
    files = st.file_uploader("spells.csv and ic_episodes.csv (and the extract's manifest.json, if any)", type=["csv", "json"],
                             accept_multiple_files=True, help=f"docs/data-contract.md lists the columns. Up to {MAX_UPLOAD_MB} MB a file.")
    if st.button("Keep these files as an extract", disabled=not files):
        names = [f.name for f in files]
        unknown = [n for n in names if n not in EXTRACT_FILES]
        too_big = [f.name for f in files if f.size > MAX_UPLOAD_MB * 1024 * 1024]
        if unknown or too_big or not {"spells.csv", "ic_episodes.csv"} <= set(names):
            st.error(f"files {', '.join(names)}: expected spells.csv and ic_episodes.csv (and optionally manifest.json), "
                     f"each up to {MAX_UPLOAD_MB} MB" + (f"; not expected: {', '.join(unknown)}" if unknown else ""))
        else:
            folder = uploads / f"extract-{dt.datetime.now():%Y%m%d-%H%M%S}"
            folder.mkdir()
            for f in files:  # the names are ours (EXTRACT_FILES), never a path from the browser
                (folder / EXTRACT_FILES[EXTRACT_FILES.index(f.name)]).write_bytes(f.getvalue())
            st.success(f"kept as {folder.name}")
    st.caption("No extract at hand? Make a synthetic one, simulated from the shipped baseline, to try the steps.")
    if st.button("Make a synthetic extract (2 years)"):
        from sim.workflows import synth

        with st.spinner("simulating two years of history…"):
            try:
                synth(uploads / f"synthetic-{dt.datetime.now():%Y%m%d-%H%M%S}", years=2.0, seed=1, command=["icsim-app", "synth"])
            except InputError as exc:
                st.error(str(exc))
        st.rerun()

available = extracts()
if available:
    with st.form("calibrate"):
        chosen = st.selectbox("Extract", [p.name for p in available])
        replications = st.number_input("Replications for the validation band", min_value=2, max_value=100, value=10, step=1)
        if st.form_submit_button("Calibrate", type="primary"):
            start_job(space, "calibrate", f"calibration of {chosen}", extract=str(uploads / chosen),
                      replications=int(replications), workers=WORKERS)

job = latest_job(space, "calibrate", st.query_params.get("job"))
if job is not None:
    job = job_progress(job.folder)
    if job.state == "done" and job.result is not None:
        result = job.result
        if (result / "quality.md").is_file():
            st.markdown((result / "quality.md").read_text())
        for name in ("validation.csv", "backtest.csv", "fits.csv"):
            if (result / name).is_file():
                with st.expander(name.removesuffix(".csv").capitalize(), expanded=name != "fits.csv"):
                    st.dataframe(pd.read_csv(result / name), hide_index=True)
        for plot in sorted((result / "plots").glob("*.png")):
            st.image(str(plot), caption=plot.stem.replace("_", " "))
        downloads(result, key=job.id)
        if st.button("Run the calibrated scenario", type="primary"):
            run = start_job(space, "run", f"{result.name} params", scenario=str(result / "params.toml"), workers=WORKERS)
            if run is not None:
                st.switch_page(PAGES["runs"], query_params={"job": run.id})
