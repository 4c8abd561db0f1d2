"""icsim: a discrete-event simulation of intermediate-care flow.

The workflows (what the `icsim` command runs) are here, for notebooks and other front ends:

    import sim
    outcome = sim.run("baseline", replications=10)           # a library name or a TOML file
    outcome.summary                   # kpi, scope, unit, mean, ci95_low, ci95_high, p10, p90, replications
    sim.compare("baseline", ["homefirst"], replications=10).tables["benefit"]

Layers, each importing only those below it: workflows -> experiment, outputs, calibrate ->
model -> inputs (docs/architecture.md); calibration is `sim.workflows.calibrate`. Names are
imported when first used, so `import sim` (and `icsim --help`) stay fast.
"""

from importlib import import_module

_EXPORTS = {
    "InputError": "errors",
    "Scenario": "inputs.scenario",
    "load_scenario": "inputs.loading",
    "KPIS": "experiment.kpis",
    "KPI_IDS": "experiment.kpis",
    "simulate": "model",
    "workflows": None,
    **{name: "workflows" for name in ("run", "compare", "plan", "census", "report", "synth", "validate")},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module = import_module(f".{_EXPORTS[name] or name}", __name__)
    return module if _EXPORTS[name] is None else getattr(module, name)
