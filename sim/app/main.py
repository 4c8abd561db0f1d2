"""The app's entry script (`streamlit run`): page setup and navigation. Each page is a file in views/."""

import streamlit as st

from sim.app.common import PAGES, workspace

st.set_page_config(page_title="icsim: intermediate-care flow", page_icon=":material/local_hospital:", layout="wide")
workspace()  # created before any page lists it
navigation = st.navigation([
    st.Page(PAGES["scenarios"], title="Build a scenario", icon=":material/build:", default=True),
    st.Page(PAGES["compare"], title="Compare", icon=":material/compare_arrows:"),
    st.Page(PAGES["blueprint"], title="Blueprint and plan", icon=":material/trending_up:"),
    st.Page(PAGES["calibrate"], title="Calibrate", icon=":material/tune:"),
    st.Page(PAGES["runs"], title="Runs", icon=":material/folder_open:"),
])
with st.sidebar:
    st.caption("icsim simulates the whole intermediate-care flow: front door, hospital stay, discharge "
               "pathways P0–P3, reablement, short-term beds, care homes. Build a variant of a scenario, "
               "compare it with its baseline, read the answer and download the workbook.")
navigation.run()
