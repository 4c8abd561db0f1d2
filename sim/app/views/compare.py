"""Compare: scenarios against a baseline on common random numbers; the answer first (net benefit
with its interval, people, flow changes), then the KPI differences, charts and downloads."""

import streamlit as st

from sim.app.common import (
    WORKERS,
    job_progress,
    latest_job,
    load,
    page_header,
    scenario_choices,
    show_folder,
    start_job,
    workspace,
)
from sim.errors import InputError

space = workspace()
page_header("Compare", "Does the change pay for itself, and what does it do to waits and bed use? "
            "Each scenario is run on the same simulated people as the baseline, so differences are the change's doing.")

job = latest_job(space, "compare", st.query_params.get("job"))
choices = scenario_choices(space)
with st.expander("Start a new comparison", expanded=job is None), st.form("new-compare"):
    names = list(choices)
    base_label = st.selectbox("Baseline", names, index=names.index("baseline") if "baseline" in names else 0)
    others = st.multiselect("Scenarios to compare with it", [n for n in names if n != base_label],
                            default=[n for n in ("homefirst",) if n in names and n != base_label])
    left, middle, right = st.columns(3)
    replications = left.number_input("Replications", min_value=2, max_value=1000, value=10, step=1,
                                     help="Paired replications; more narrow the intervals (10 take about a minute).")
    years = middle.number_input("Years reported (after the warm-up)", min_value=0.1, max_value=10.0, value=1.0, step=0.5)
    seed = right.number_input("Seed", min_value=0, value=None, step=1, placeholder="the baseline's",
                              help="The same seed gives the same people and the same results.")
    if st.form_submit_button("Run the comparison", type="primary"):
        if not others:
            st.error("Choose at least one scenario to compare with the baseline.")
        else:
            try:
                for label in (base_label, *others):
                    load(choices[label])
            except InputError as exc:
                st.error(str(exc))
            else:
                started = start_job(space, "compare", " and ".join(others) + f" against {base_label}",
                                    baseline=choices[base_label], scenarios=[choices[n] for n in others],
                                    replications=int(replications), years=float(years),
                                    seed=None if seed is None else int(seed), workers=WORKERS)
                if started is not None:
                    st.rerun()

if job is None:
    st.info("No comparison yet: build a scenario on “Build a scenario”, or start one above.")
    st.stop()
job = job_progress(job.folder)
if job.state == "done" and job.result is not None:
    st.caption(f"{job.label}: finished {(job.finished or '')[:16].replace('T', ' ')} (UTC) · folder {job.result.name}")
    show_folder(job.result, key=job.id)
