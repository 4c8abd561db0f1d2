"""Build a scenario: start from one in the library (or saved), change levers in forms, see the
validator's message beside a field, save the variant as a TOML file that `extends` its parent
(only the changes), download it, or compare it with its parent at once."""

from pathlib import Path

import streamlit as st

from sim.app.common import PAGES, WORKERS, describe, load, page_header, scenario_choices, start_job, workspace
from sim.errors import InputError
from sim.inputs.library import resolve_scenario
from sim.inputs.sources import sources_for
from sim.inputs.variant import GROUPS, VariantError, apply_levers, levers, save_variant, variant_toml

space = workspace()
page_header("Build a scenario",
            "What happens to waits, bed use and money if we change beds, reablement, lengths of stay or discharge? "
            "Pick a starting scenario, change what you want below, then press “Save and compare”.")

choices = scenario_choices(space)
label = st.selectbox("Start from", list(choices), index=list(choices).index("baseline") if "baseline" in choices else 0,
                     help="A shipped scenario, or one saved in this workspace.")
reference = choices[label]
try:
    parent = load(reference)
except InputError as exc:
    st.error(str(exc))
    st.stop()
parent_ref = Path(reference).name if Path(reference).is_file() else reference  # `extends`: a library name, or a file beside it
st.markdown(f"**{parent.meta.name}**: {parent.meta.description}")
with st.expander("Every scenario in the library and this workspace"):
    st.dataframe([{"scenario": name, "description": describe(ref)} for name, ref in choices.items()], hide_index=True)
parent_file = resolve_scenario(reference)
sources = sources_for(parent_file) if parent_file.is_file() else {}


def source_of(key: str) -> str:
    """The source comment of the longest key-path prefix that has one."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in sources:
            return sources[".".join(parts[:end])]
    return "no source comment in the file"


all_levers = levers(parent)
prefix = f"lever|{reference}|"
changes = {lever.key: st.session_state[prefix + lever.key] for lever in all_levers
           if prefix + lever.key in st.session_state and st.session_state[prefix + lever.key] != lever.value}
problem: VariantError | None = None
try:
    apply_levers(parent, changes, source=f"{parent.meta.name} variant")
except VariantError as exc:
    problem = exc

st.subheader("Levers")
st.caption("Each field starts at the scenario's value; hover on the ? beside a field for what it changes and where the figure comes from.")
for group, tab in zip(GROUPS, st.tabs(list(GROUPS))):
    with tab:
        in_group = [lever for lever in all_levers if lever.group == group]
        if not in_group:
            st.caption("Nothing to change here in this scenario.")
        columns = st.columns(3)
        for i, lever in enumerate(in_group):
            with columns[i % 3]:
                fmt = "%d" if lever.integer else ("%.2f" if lever.step >= 0.1 else "%.4f")
                st.number_input(f"{lever.label} ({lever.unit})", value=int(lever.value) if lever.integer else float(lever.value),
                                step=int(lever.step) if lever.integer else float(lever.step), format=fmt, key=prefix + lever.key,
                                help=f"{lever.help}\n\n`{lever.key}`: {source_of(lever.key)}")
                if problem is not None and problem.key == lever.key:
                    st.error(str(problem))
if problem is not None and problem.key is None:
    st.error(str(problem))

st.subheader("Save and compare")
left, right = st.columns([2, 1])
name = left.text_input("Name of the new scenario", value=f"{parent.meta.name}_variant", key=f"name|{reference}")
description = left.text_input("What it tests (one line)", key=f"description|{reference}")
replications = right.number_input("Replications for the comparison", min_value=2, max_value=100, value=10, step=1,
                                  help="Paired replications of the baseline and the variant (common random numbers). "
                                  "10 take about a minute; more narrow the intervals.")
if changes:
    st.markdown("**Changes:** " + "; ".join(f"`{k}` {next(lv.value for lv in all_levers if lv.key == k):g} → {v:g}"
                                            for k, v in changes.items()))
else:
    st.info("No lever changed yet: change a value above.")
ready = bool(changes) and problem is None
if ready:
    text = variant_toml(parent_ref, parent, changes, name=name, description=description)
    with st.expander("The scenario file (only the changes)"):
        st.code(text, language="toml")
    st.download_button("Download the TOML file", text, f"{name}.toml", "application/toml")

save, save_compare = st.columns(2)
saved: Path | None = None
if save.button("Save", disabled=not ready) or save_compare.button(f"Save and compare with {parent.meta.name}", type="primary",
                                                                    disabled=not ready, key="save-compare"):
    try:
        saved = save_variant(space / "scenarios", parent_ref, parent, changes, name=name, description=description)
    except InputError as exc:
        st.error(str(exc))
if saved is not None:
    st.success(f"Saved {saved.name} in the workspace.")
    if st.session_state.get("save-compare"):
        job = start_job(space, "compare", f"{saved.stem} against {parent.meta.name}", baseline=reference,
                        scenarios=[str(saved)], replications=int(replications), workers=WORKERS)
        if job is not None:
            st.switch_page(PAGES["compare"], query_params={"job": job.id})
