"""The web app's pages (Streamlit scripts, run by sim/app/main.py's navigation)."""
