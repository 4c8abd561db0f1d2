"""How figures are written for people: KPI values in their unit, money in £m (CLI tables and reports)."""

from __future__ import annotations

import math


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def kpi_value(value, unit: str) -> str:
    """A KPI value as tables show it: proportions as %, "–" when undefined."""
    value = _number(value)
    if value is None:
        return "–"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def kpi_difference(value, unit: str) -> str:
    """A difference of two KPI values: shares in percentage points ("+1.3 pp"), others in their
    unit; always signed, a minus sign for negatives, no negative zero; "–" when undefined."""
    value = _number(value)
    if value is None:
        return "–"
    if unit == "proportion":
        value, suffix, digits = 100 * value, " pp", 1
    else:
        suffix, digits = "", (1 if abs(value) < 1000 else 0)
    text = f"{abs(value):,.{digits}f}"
    if text.strip("0.,") == "":
        return f"0{suffix}" if digits == 0 else f"{0:.{digits}f}{suffix}"
    return f"{'+' if value > 0 else '−'}{text}{suffix}"


def money(value) -> str:
    """Pounds a year as £m with two decimals, the sign before the £ ("−£1.22m", a minus sign, not a
    hyphen), no negative zero; "–" when undefined."""
    value = _number(value)
    if value is None:
        return "–"
    text = f"{abs(value) / 1e6:,.2f}"
    negative = value < 0 and text.strip("0.,") != ""
    return f"{'−' if negative else ''}£{text}m"


def signed(value) -> str:
    """A count with its sign, a minus sign for negatives, no negative zero: "+383", "−656", "0"."""
    value = _number(value)
    if value is None:
        return "–"
    rounded = round(value)
    return "0" if rounded == 0 else f"{'+' if rounded > 0 else '−'}{abs(rounded):,}"
