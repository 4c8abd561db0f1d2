"""The progress bar of a long command: on stderr, only on a terminal, fed by a workflow's callbacks."""

from __future__ import annotations

import time

from rich import progress as p
from rich.console import Console


class RunProgress:
    """`start(total, already)` and `advance(replication)` are a workflow's on_start and
    on_replication; `bar` is the context the command runs in."""

    def __init__(self, console: Console, quiet: bool):
        self.bar = p.Progress(p.TextColumn("[bold]simulating[/]"), p.BarColumn(), p.MofNCompleteColumn(),
                              p.TextColumn("replications"), p.TextColumn("{task.fields[rate]}"), p.TimeRemainingColumn(),
                              console=console, disable=quiet or not console.is_terminal, transient=True)
        self.task, self.already, self.clock = None, 0, time.perf_counter()

    def start(self, total: int, already: int) -> None:
        """Called once, or (--precision) again before each batch with the larger total."""
        if self.task is None:
            self.task = self.bar.add_task("run", total=total, completed=already, rate="")
            self.already, self.clock = already, time.perf_counter()
        else:
            self.bar.update(self.task, total=total, completed=already)

    def advance(self, _replication: int) -> None:
        self.bar.advance(self.task)
        fresh = self.bar.tasks[0].completed - self.already
        self.bar.update(self.task, rate=f"{fresh / max(time.perf_counter() - self.clock, 1e-9) * 60:.1f}/min")
