"""Blueprint and plan: a scenario projected over years (fan charts per year), and the capacity a
service needs each year to meet a target with a stated confidence (`icsim plan`)."""

import datetime as dt

import pandas as pd
import streamlit as st

from sim.app.common import (
    WORKERS,
    downloads,
    job_progress,
    latest_job,
    page_header,
    scenario_choices,
    show_folder,
    start_job,
    workspace,
)
from sim.experiment.kpis import KPI_BY_ID
from sim.outputs.report_parts import label

PLAN_KPIS = ("p1_wait_days", "p2_wait_days", "p3_wait_days", "p1_queue", "p2_queue", "p3_queue", "bed_occupancy",
             "reablement_occupancy", "delayed_bed_days_per_week")
YEARLY_SHOWN = ("admissions_per_week", "p1_wait_days", "p2_wait_days", "bed_occupancy", "reablement_occupancy")

space = workspace()
page_header("Blueprint and plan", "How many short-term beds or reablement places will each year need as the population grows?")
choices = scenario_choices(space)
names = list(choices)
default = names.index("blueprint") if "blueprint" in names else 0
wanted = st.query_params.get("job")
plan_tab, projection_tab = st.tabs(["Plan capacity year by year", "Project a scenario over years"])

with projection_tab:
    with st.form("projection"):
        label = st.selectbox("Scenario", names, index=default, key="projection-scenario")
        left, right = st.columns(2)
        years = left.number_input("Years", min_value=1, max_value=15, value=10, step=1)
        replications = right.number_input("Replications", min_value=2, max_value=200, value=10, step=1)
        if st.form_submit_button("Run the projection", type="primary"):
            start_job(space, "run", f"{label}, {years} years", scenario=choices[label], years=float(years),
                      replications=int(replications), workers=WORKERS)
    job = latest_job(space, "run", wanted)
    if job is not None:
        job = job_progress(job.folder)
        if job.state == "done" and job.result is not None:
            yearly = job.result / "yearly.csv"
            if yearly.is_file():
                table = pd.read_csv(yearly)
                table = table[(table["scope"] == "total") & table["kpi"].isin(YEARLY_SHOWN)]
                st.markdown("**Each year: mean across replications** (the fan charts below show the spread)")
                shown = table.pivot_table(index="year", columns="kpi", values="mean")
                for kpi in shown.columns:  # shares as per cent, every column by its name and unit
                    unit = KPI_BY_ID[kpi].unit
                    shown[kpi] = shown[kpi] * (100 if unit == "proportion" else 1)
                st.dataframe(shown.rename(columns=lambda k: f"{label(k)} ({'%' if KPI_BY_ID[k].unit == 'proportion' else KPI_BY_ID[k].unit})")
                             .round(1))
            show_folder(job.result, key=job.id)

with plan_tab:
    with st.form("plan"):
        label = st.selectbox("Scenario", names, index=default, key="plan-scenario")
        service = st.segmented_control("Service to plan", ["reablement", "beds"], default="reablement", required=True)
        left, middle, right = st.columns(3)
        kpi = left.selectbox("Target KPI", PLAN_KPIS)
        op = middle.selectbox("must be", ["<=", ">="])
        value = right.number_input("Value", value=2.0, step=0.5)
        first_year = dt.date.today().year
        left, middle, right = st.columns(3)
        first = left.number_input("From year", min_value=2000, max_value=2100, value=first_year, step=1)
        last = middle.number_input("To year", min_value=2000, max_value=2100, value=first_year + 9, step=1)
        confidence = right.slider("Confidence (share of replications meeting the target)", 0.5, 0.99, 0.9, 0.01)
        replications = st.number_input("Replications per candidate capacity", min_value=2, max_value=200, value=10, step=1)
        if st.form_submit_button("Plan", type="primary"):
            if last < first:
                st.error(f"To year = {last}: expected {first} or later")
            else:
                start_job(space, "plan", f"{service} for {kpi} {op} {value:g}, {first}-{last}", scenario=choices[label],
                          service=service, target=f"{kpi} {op} {value:g}", confidence=float(confidence),
                          years=f"{first}-{last}", replications=int(replications), workers=WORKERS)
    job = latest_job(space, "plan", wanted)
    if job is not None:
        job = job_progress(job.folder)
        if job.state == "done" and job.result is not None and (job.result / "plan.csv").is_file():
            chosen = pd.read_csv(job.result / "plan.csv")
            st.markdown(f"**{job.label}**: the least capacity meeting the target each year")
            by_year = chosen.assign(year=chosen["year"].astype(str)).set_index("year")  # a label, not 2,026
            st.line_chart(by_year[["capacity", "capacity_now"]], x_label="year", y_label="places")
            st.dataframe(chosen, hide_index=True)
            downloads(job.result, key=job.id)
