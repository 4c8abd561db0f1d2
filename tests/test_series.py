"""Series names are declared once (sim/model/series.py): a name nobody declared is an error
where it is recorded and where a KPI reads it, never a KPI of silent zeros."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import baseline

from sim.experiment.kpis import _Window
from sim.model import simulate
from sim.model.monitor import Monitor
from sim.model.series import SERIES


def test_recording_an_undeclared_series_is_an_error():
    monitor = Monitor(3)
    monitor.count("beds.starts", "hospital", 1.0)  # declared: fine
    with pytest.raises(KeyError, match=r"beds\.strats"):
        monitor.count("beds.strats", "hospital", 1.0)
    with pytest.raises(KeyError, match=r"acute\.ocupied"):
        monitor.level("acute.ocupied")


def test_reading_an_undeclared_series_is_an_error_and_an_unrecorded_scope_is_zero():
    window = _Window({("beds.starts", "hospital"): np.array([1.0, 2.0, 3.0])}, 0, 3)
    assert window("beds.starts", "hospital").tolist() == [1.0, 2.0, 3.0]
    assert window("beds.starts", "community").tolist() == [0.0, 0.0, 0.0]  # nobody came that way
    with pytest.raises(KeyError, match=r"beds\.strats"):
        window("beds.strats", "hospital")


def test_the_model_records_only_declared_series_and_nearly_all_of_them():
    """A baseline replication records no undeclared series; of the declared ones it leaves out
    only the Home Ward's queue (a diversion needs a free place now, so nobody queues), the
    front-door assessment's requests, starts and queue (unlimited in the baseline, so people
    sent home from it go at once, without the service) and the care-home queue (placements are
    unlimited in the baseline)."""
    out = simulate(baseline().with_run(years=0.2), 0)
    recorded = {series for series, _ in out.daily}
    assert recorded <= SERIES
    # and reablement staff hours, kept only when reablement capacity is in hours a week
    assert SERIES - recorded == {"home_ward.queue", "home_ward.wait_days", "assessment.requests", "assessment.starts",
                                 "assessment.queue", "assessment.wait_days", "placements.queue",
                                 "reablement.hours_committed"}
