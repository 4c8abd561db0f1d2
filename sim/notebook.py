"""Helpers for the notebooks in notebooks/: work from the repository root, show a figure."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd


def work_from_repo_root() -> Path:
    """Change to the icsim checkout (the nearest folder above the current one holding
    pyproject.toml), so scenario paths read as in the README, and widen pandas tables."""
    root = Path.cwd().resolve()
    while not (root / "pyproject.toml").exists():
        if root.parent == root:
            raise RuntimeError("open this notebook inside the icsim repository")
        root = root.parent
    os.chdir(root)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    return root


def show(figure, dpi: int = 90) -> None:
    """Display a matplotlib Figure as a PNG (icsim draws without pyplot, on any backend)."""
    from IPython.display import Image, display  # only inside a notebook

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    display(Image(data=buffer.getvalue()))
