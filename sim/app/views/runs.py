"""Runs: every folder the workspace holds (ordinary run, compare, plan and calibration folders),
newest first, to reopen, download or compare; and the runs still going."""

import pandas as pd
import streamlit as st

from sim import jobs
from sim.app.common import PAGES, WORKERS, job_progress, page_header, show_folder, start_job, workspace

space = workspace()
page_header("Runs", "What did we run before, and what did it say? Select a row to reopen it; select two or more "
            "simulation runs to compare them (the first is the baseline).")

wanted = st.query_params.get("job")
for job in jobs.jobs(space):
    if job.state == "running" or job.id == wanted:
        job = job_progress(job.folder)
        if job.id == wanted and job.state == "done" and job.result is not None:
            show_folder(job.result, key=job.id)

entries = jobs.runs(space)
if not entries:
    st.info(f"No runs yet in {space}. Runs started from any page are kept here.")
    st.stop()
table = pd.DataFrame([{
    "name": e.name, "kind": e.kind, "scenarios": ", ".join(e.scenarios), "replications": e.replications,
    "seconds": e.seconds, "created": e.created[:16].replace("T", " ")} for e in entries])
picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row", key="runs-table")
rows = picked.selection.rows if picked is not None else []
chosen = [entries[i] for i in rows]
simulated = [e for e in chosen if e.kind == "run"]
if len(simulated) >= 2 and st.button(f"Compare {len(simulated)} runs (baseline: {simulated[0].name})", type="primary"):
    job = start_job(space, "compare", " and ".join(e.name for e in simulated[1:]) + f" against {simulated[0].name}",
                    baseline=str(simulated[0].folder), scenarios=[str(e.folder) for e in simulated[1:]], workers=WORKERS)
    if job is not None:
        st.switch_page(PAGES["compare"], query_params={"job": job.id})
for entry in chosen[:1]:
    st.subheader(f"{entry.kind}: {entry.name}")
    show_folder(entry.folder, key=entry.folder.name)
