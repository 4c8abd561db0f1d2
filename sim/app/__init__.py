"""icsim's web app (Streamlit): build a scenario, compare it, plan, calibrate, reopen runs.

A front end like the CLI: its pages call sim.workflows (through sim.jobs, so runs happen in
another process) and the outputs' readers; they hold no simulation or analysis logic.
`icsim app` starts it (sim/app/server.py).
"""
