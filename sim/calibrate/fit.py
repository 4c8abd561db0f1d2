"""Statistical fitting for calibration: arrivals, durations, shares, concurrency, discharge days.

Pure functions: numpy/pandas in, dataclasses and plain dicts out (no SimPy, no file IO). Every
result is expressed in the scenario's own parameterisation (see `sim/inputs/distributions.py` and
`sim/inputs/scenario.py`), so it can be written into a scenario file as it stands:

* `fit_arrivals` -> `Arrivals` (rate_per_day, monthly_factors, weekday_factors, annual_growth):
  a Poisson GLM (statsmodels), log λ_d = β0 + month_d + weekday_d + trend × years_d, with years
  measured as (date − reference_date).days / 365, as in `sim/model/calendar.py`.
* `fit_duration` -> a duration `Distribution` dict ({"family", "mean", "sd"}), chosen by AIC
  among maximum-likelihood fits that honour right-censoring (scipy's censored fits; standard
  errors from statsmodels' numerical Hessian; Kaplan–Meier from `scipy.stats.ecdf`).
* `fit_shares` -> a `Shares` table (maximum likelihood = observed proportions, summing to 1,
  with scipy's Wilson intervals).
* `peak_concurrency` -> e.g. a capacity seen in the data.
* `weekday_leave_probabilities` -> a `WeekdayProbabilities` table (the discharge-day rule).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.numdiff import approx_fprime, approx_hess

from ..inputs.scenario import WEEKDAYS
from ..units import DAYS_PER_YEAR

Z95 = float(stats.norm.ppf(0.975))
OVERDISPERSION_THRESHOLD = 1.5
DURATION_FAMILIES = ("exponential", "lognormal", "gamma", "weibull")
MIN_PARAMETRIC_N = 10


# --------------------------------------------------------------------------------------------
# 1. Arrivals: Poisson GLM
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalFit:
    """A fitted arrivals process, in the scenario's `Arrivals` parameterisation.

    Daily intensity on date d = rate_per_day × monthly_factors[month(d)] × weekday_factors[weekday(d)]
    × (1 + annual_growth) ** ((d − reference_date).days / 365). The factors are the GLM's month and
    weekday effects rescaled to average exactly 1 (unweighted over the 12 months / 7 weekdays),
    with the scale moved into rate_per_day: a reparameterisation, so the fitted daily means are
    the GLM's exactly (see `intensity`).
    """

    rate_per_day: float
    monthly_factors: tuple[float, ...]  # 12 values, Jan..Dec, mean 1
    weekday_factors: tuple[float, ...]  # 7 values, Mon..Sun, mean 1
    annual_growth: float
    rate_se: float  # from the Fisher information (delta method), not inflated for overdispersion
    growth_se: float
    monthly_factor_se: tuple[float, ...]  # delta method; 0 where months are fixed at 1
    weekday_factor_se: tuple[float, ...]
    deviance: float
    dispersion: float  # Pearson χ² / (n_days − n_parameters)
    overdispersion_warning: str | None  # set when dispersion > 1.5
    n_days: int
    n_parameters: int
    reference_date: dt.date
    months_fitted: bool
    notes: list[str] = field(default_factory=list)

    def as_scenario(self) -> dict[str, Any]:
        """The `[arrivals]` table of a scenario."""
        return {
            "rate_per_day": self.rate_per_day,
            "monthly_factors": list(self.monthly_factors),
            "weekday_factors": list(self.weekday_factors),
            "annual_growth": self.annual_growth,
        }

    def intensity(self, dates) -> np.ndarray:
        """Expected arrivals on each date under the fitted (reparameterised) model."""
        idx = pd.DatetimeIndex(pd.to_datetime(dates))
        years = (idx - pd.Timestamp(self.reference_date)).days.to_numpy() / DAYS_PER_YEAR
        return (
            self.rate_per_day
            * np.asarray(self.monthly_factors)[idx.month.to_numpy() - 1]
            * np.asarray(self.weekday_factors)[idx.day_of_week.to_numpy()]
            * (1 + self.annual_growth) ** years
        )


def _normalised_factors(effects: np.ndarray, cov: np.ndarray, index: np.ndarray):
    """Factors exp(e_j) / mean(exp(e)) and their delta-method SEs.

    `effects` holds all levels (the reference level 0); `index[j]` is the column of level j's
    effect in `cov`, or −1 for the reference level. Returns (factors, se, gradient of
    log mean(exp(e)) with respect to the coefficients), the last for the rate's SE.
    """
    k = len(effects)
    w = np.exp(effects) / np.sum(np.exp(effects))  # d log mean(exp e) / d e_j
    p = cov.shape[0]
    grad_log_mean = np.zeros(p)
    for j in range(k):
        if index[j] >= 0:
            grad_log_mean[index[j]] += w[j]
    factors = np.exp(effects) / np.mean(np.exp(effects))
    se = np.zeros(k)
    for j in range(k):
        g = -grad_log_mean.copy()
        if index[j] >= 0:
            g[index[j]] += 1.0
        se[j] = factors[j] * math.sqrt(max(float(g @ cov @ g), 0.0))
    return factors, se, grad_log_mean


def fit_arrivals(daily_counts: pd.Series, reference_date, fixed_growth: float | None = None) -> ArrivalFit:
    """Fit rate, month and weekday factors and annual growth to daily arrival counts.

    With `fixed_growth` the trend is not fitted but held at that annual growth (an offset), as
    when the history is too short to tell a trend from seasonality.

    `daily_counts` is indexed by calendar date, one row per observed day (zeros included).
    Days missing from the index are treated as unobserved, not as zero (a note says how many).
    With fewer than 12 distinct calendar months observed, month effects are not identifiable
    from the data and are fixed at 1 (noted). Standard errors come from the Fisher information
    of the Poisson model; if the data are overdispersed (Pearson dispersion > 1.5) they are too
    small by about √dispersion, and `overdispersion_warning` says so.
    """
    if not isinstance(daily_counts, pd.Series):
        raise TypeError("daily_counts must be a pandas Series indexed by date")
    notes: list[str] = []
    s = daily_counts.copy()
    s.index = pd.DatetimeIndex(pd.to_datetime(s.index)).normalize()
    if s.index.has_duplicates:
        raise ValueError("daily_counts has more than one row for some dates")
    s = s.sort_index()
    n_nan = int(s.isna().sum())
    if n_nan:
        s = s.dropna()
        notes.append(f"{n_nan} day(s) with a missing count dropped (treated as unobserved, not zero)")
    y = s.to_numpy(dtype=float)
    if len(y) == 0:
        raise ValueError("no observed days")
    if np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("daily counts must be whole numbers >= 0")
    if y.sum() == 0:
        raise ValueError("no arrivals observed: the rate cannot be fitted on a log scale")
    window = pd.date_range(s.index[0], s.index[-1], freq="D")
    if len(window) != len(s):
        notes.append(
            f"{len(window) - len(s)} day(s) inside the window {s.index[0].date()}..{s.index[-1].date()} "
            "are absent from the index and treated as unobserved (not zero)"
        )

    ref = pd.Timestamp(reference_date).normalize()
    years = (s.index - ref).days.to_numpy() / DAYS_PER_YEAR
    month = s.index.month.to_numpy() - 1
    weekday = s.index.day_of_week.to_numpy()

    months_fitted = len(np.unique(month)) == 12
    if not months_fitted:
        notes.append(
            f"only {len(np.unique(month))} distinct calendar month(s) observed (< 12): month effects "
            "are not identifiable and are fixed at 1 (no seasonality fitted)"
        )
    weekdays_seen = np.unique(weekday)
    if len(weekdays_seen) < 7:
        notes.append(f"only {len(weekdays_seen)} distinct weekday(s) observed: unobserved weekdays fixed at the reference effect")
    if np.ptp(years) < 1 / DAYS_PER_YEAR:
        raise ValueError("at least two distinct days are needed to fit a trend")
    if np.ptp(years) < 1.0 and fixed_growth is None:
        notes.append(
            f"observed window is {np.ptp(years) * DAYS_PER_YEAR:.0f} days (< 1 year): the annual growth "
            "is extrapolated from a short trend and partly confounded with seasonality"
        )

    # Design: intercept, month dummies (Jan reference), weekday dummies (Mon reference), trend.
    cols = [np.ones(len(y))]
    month_index = np.full(12, -1)
    if months_fitted:
        for m in range(1, 12):
            month_index[m] = len(cols)
            cols.append((month == m).astype(float))
    weekday_index = np.full(7, -1)
    ref_weekday = int(weekdays_seen[0])
    for d in weekdays_seen:
        if d != ref_weekday:
            weekday_index[d] = len(cols)
            cols.append((weekday == d).astype(float))
    trend_col = len(cols)
    if fixed_growth is None:
        cols.append(years)
    X = np.column_stack(cols)

    offset = None if fixed_growth is None else years * math.log1p(fixed_growth)
    glm = GLM(y, X, family=Poisson(), offset=offset).fit()
    if not glm.converged:
        raise RuntimeError("Poisson GLM did not converge")
    beta, cov = glm.params, glm.cov_params()
    p = X.shape[1]

    month_effects = np.array([beta[i] if i >= 0 else 0.0 for i in month_index])
    weekday_effects = np.array([beta[i] if i >= 0 else 0.0 for i in weekday_index])
    mf, mf_se, g_m = _normalised_factors(month_effects, cov, month_index)
    wf, wf_se, g_w = _normalised_factors(weekday_effects, cov, weekday_index)
    if not months_fitted:
        mf, mf_se = np.ones(12), np.zeros(12)

    # rate = exp(β0) × mean(exp(month effects)) × mean(exp(weekday effects)).
    log_rate = beta[0] + math.log(np.mean(np.exp(month_effects))) + math.log(np.mean(np.exp(weekday_effects)))
    grad = g_m + g_w
    grad[0] += 1.0
    rate = math.exp(log_rate)
    rate_se = rate * math.sqrt(max(float(grad @ cov @ grad), 0.0))
    if fixed_growth is None:
        trend = beta[trend_col]
        growth = math.expm1(trend)
        growth_se = math.exp(trend) * math.sqrt(cov[trend_col, trend_col])
    else:
        growth, growth_se = fixed_growth, 0.0

    deviance = float(glm.deviance)
    df = len(y) - p
    dispersion = float(glm.pearson_chi2 / df) if df > 0 else math.nan
    warning = None
    if df > 0 and dispersion > OVERDISPERSION_THRESHOLD:
        warning = (
            f"overdispersion: Pearson χ²/df = {dispersion:.2f} > {OVERDISPERSION_THRESHOLD}; the Poisson "
            f"standard errors are too small by about a factor √{dispersion:.2f} = {math.sqrt(dispersion):.2f}, "
            "and a Poisson arrivals process will understate day-to-day variation"
        )
        notes.append(warning)

    # Normalisation is exact in the float sense only to rounding; force the means to 1 exactly-ish.
    mf = mf / np.mean(mf)
    wf = wf / np.mean(wf)
    return ArrivalFit(
        rate_per_day=rate,
        monthly_factors=tuple(float(v) for v in mf),
        weekday_factors=tuple(float(v) for v in wf),
        annual_growth=growth,
        rate_se=rate_se,
        growth_se=growth_se,
        monthly_factor_se=tuple(float(v) for v in mf_se),
        weekday_factor_se=tuple(float(v) for v in wf_se),
        deviance=deviance,
        dispersion=dispersion,
        overdispersion_warning=warning,
        n_days=len(y),
        n_parameters=p,
        reference_date=ref.date(),
        months_fitted=months_fitted,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# 2. Durations: censored maximum likelihood, family chosen by AIC
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationFit:
    """The chosen duration distribution and the evidence for it.

    `distribution` is a scenario `Distribution` dict: {"family": "exponential", "mean": m},
    {"family": <lognormal|gamma|weibull>, "mean": m, "sd": s}, or (small samples without
    censoring) {"family": "empirical", "values": [...]}. `candidates` holds every family's fit
    (scenario parameters, native parameters, log-likelihood, AIC, mean and its SE).
    """

    family: str
    distribution: dict[str, Any]
    mean: float
    sd: float
    mean_se: float  # delta method from the observed information; nan for empirical
    aic: dict[str, float]  # every family tried
    delta_aic: dict[str, float]  # AIC − best AIC
    candidates: dict[str, dict[str, Any]]
    n: int
    n_censored: int
    ks_statistic: float
    ks_pvalue: float
    ks_note: str
    notes: list[str] = field(default_factory=list)


_SCIPY_FAMILY = {"lognormal": stats.lognorm, "gamma": stats.gamma, "weibull": stats.weibull_min}


def _log_scale_fmin(func, x0, args=(), disp=0):
    """Optimizer for scipy's `fit`: Nelder–Mead on log(shape), log(scale), i.e. relative tolerances.

    Measured: scipy's default (`optimize.fmin`, absolute xtol = ftol = 1e-4) left means and sds about
    1e-5 (relative) off the optimum; a tight absolute xtol did not converge for durations in seconds
    (scale ~ 1e6: 40,000 evaluations, 10 s). On log scale both took 140–290 evaluations.
    """
    res = optimize.minimize(lambda u: func(np.exp(u), *args), np.log(x0), method="Nelder-Mead",
                            options=dict(xatol=1e-10, fatol=1e-12, maxiter=20_000, maxfev=40_000))
    return np.exp(res.x)


def _fit_family(family: str, t: np.ndarray, event: np.ndarray) -> dict[str, Any]:
    te, tc = t[event], t[~event]
    d = len(te)
    if family == "exponential":
        mean = float(t.sum() / d)  # closed-form censored MLE: total time / events
        loglik = -d * math.log(mean) - float(t.sum()) / mean
        return dict(
            family="exponential",
            distribution={"family": "exponential", "mean": mean},
            params={"mean": mean},
            mean=mean,
            sd=mean,
            mean_se=mean / math.sqrt(d),
            loglik=loglik,
            k=1,
            cdf=stats.expon(scale=mean).cdf,
        )
    dist = _SCIPY_FAMILY[family]
    shape, _, scale = dist.fit(stats.CensoredData(uncensored=te, right=tc), floc=0, optimizer=_log_scale_fmin)
    theta = np.log([shape, scale])

    def nll(theta):  # log f(t) for observed durations, log S(t) for censored ones (scipy's nnlf rejects CensoredData)
        fitted = dist(math.exp(theta[0]), scale=math.exp(theta[1]))
        return -float(np.sum(fitted.logpdf(te)) + np.sum(fitted.logsf(tc)))

    # SE of the mean: delta method with the observed information (numerical Hessian in log parameters).
    try:
        cov = np.linalg.inv(approx_hess(theta, nll))
        grad = approx_fprime(theta, lambda th: dist.mean(math.exp(th[0]), scale=math.exp(th[1])), centered=True)
        mean_se = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    except np.linalg.LinAlgError:
        mean_se = math.nan
    fitted = dist(shape, scale=scale)
    mean, sd = float(fitted.mean()), float(fitted.std())
    if family == "lognormal":
        native = {"mu": math.log(scale), "sigma": shape}
    else:
        native = {"shape": shape, "scale": scale}
    return dict(
        family=family,
        distribution={"family": family, "mean": mean, "sd": sd},
        params={k: float(v) for k, v in native.items()},
        mean=mean,
        sd=sd,
        mean_se=mean_se,
        loglik=-nll(theta),
        k=2,
        cdf=fitted.cdf,
    )


def _km_distance(t: np.ndarray, event: np.ndarray, cdf) -> float:
    """sup |(1 − Kaplan–Meier(t)) − F(t)| over the uncensored durations, at and just before each."""
    km = stats.ecdf(stats.CensoredData(uncensored=t[event], right=t[~event])).cdf
    after = km.probabilities
    before = np.concatenate(([0.0], after[:-1]))
    jump = np.isin(km.quantiles, t[event])  # quantiles holds the censoring times too
    F = cdf(km.quantiles[jump])
    return float(max(np.max(np.abs(after[jump] - F)), np.max(np.abs(before[jump] - F))))


def fit_duration(
    durations,
    censored=None,
    families: Sequence[str] = DURATION_FAMILIES,
) -> DurationFit:
    """Maximum-likelihood duration fit honouring right-censoring; family chosen by AIC.

    `censored[i]` true means durations[i] is a lower bound (the person had not yet left): it
    contributes log S(t) to the likelihood, an observed duration log f(t). Durations must be
    finite and > 0: zeros are rejected rather than silently moved (a zero recorded at whole-day
    resolution means "under a day"; the honest fixes — adding half the recording resolution, or
    modelling the zeros as a separate share with a deterministic zero delay — are the caller's
    choice, and the error says so). With fewer than 10 values, no parametric family is chosen:
    the empirical distribution is returned (or, with censoring, the exponential MLE, as the
    empirical distribution would ignore the censoring), with a note.
    """
    t = np.asarray(durations, dtype=float).ravel()
    event = np.ones(len(t), dtype=bool) if censored is None else ~np.asarray(censored, dtype=bool).ravel()
    if len(event) != len(t):
        raise ValueError("censored must have the same length as durations")
    if len(t) == 0:
        raise ValueError("no durations")
    if not np.all(np.isfinite(t)):
        raise ValueError("durations must be finite (use censored=True for people still waiting)")
    if np.any(t <= 0):
        n0 = int(np.sum(t == 0))
        raise ValueError(
            f"durations must be > 0 ({n0} zero(s), {int(np.sum(t < 0))} negative): for zeros recorded at a "
            "coarse resolution add half the resolution (e.g. 0.5 days) before fitting, or fit the zeros as a "
            "separate share with a deterministic zero delay and fit the positive durations here"
        )
    unknown = [f for f in families if f not in DURATION_FAMILIES]
    if unknown or not families:
        raise ValueError(f"families must be a non-empty subset of {DURATION_FAMILIES}; got {list(families)}")
    n, n_events = len(t), int(event.sum())
    n_cens = n - n_events
    if n_events == 0:
        raise ValueError("every duration is censored: nothing identifies the distribution")
    notes: list[str] = []
    if n_cens:
        notes.append(f"{n_cens} of {n} durations right-censored ({n_cens / n:.0%}); they enter the likelihood as log S(t)")

    if n < MIN_PARAMETRIC_N:
        if n_cens == 0:
            values = sorted(float(v) for v in t)
            notes.append(f"only {n} durations (< {MIN_PARAMETRIC_N}): no family chosen; the empirical distribution is returned")
            mean, sd = float(np.mean(t)), float(np.std(t))
            return DurationFit(
                family="empirical",
                distribution={"family": "empirical", "values": values},
                mean=mean,
                sd=sd,
                mean_se=float(np.std(t, ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                aic={},
                delta_aic={},
                candidates={},
                n=n,
                n_censored=0,
                ks_statistic=math.nan,
                ks_pvalue=math.nan,
                ks_note="not computed (empirical distribution)",
                notes=notes,
            )
        families = ("exponential",)
        notes.append(
            f"only {n} durations (< {MIN_PARAMETRIC_N}) with censoring: the exponential MLE (total time / events) "
            "is returned, as the empirical distribution would ignore the censoring"
        )

    fits = {}
    for fam in families:
        try:
            fits[fam] = _fit_family(fam, t, event)
        except Exception as exc:  # pragma: no cover - reported, not hidden
            notes.append(f"{fam} fit failed: {exc}")
    if not fits:
        raise RuntimeError("no family could be fitted")
    aic = {f: 2 * r["k"] - 2 * r["loglik"] for f, r in fits.items()}
    best = min(aic, key=aic.get)
    delta = {f: a - aic[best] for f, a in aic.items()}
    chosen = fits[best]
    close = [f for f, d in delta.items() if f != best and d < 2]
    if close:
        notes.append(f"AIC within 2 of {best}: {', '.join(close)} (the data barely distinguish them)")
    if best == "weibull":
        cv = chosen["sd"] / chosen["mean"]
        if not 0.01 <= cv <= 20:
            notes.append(f"Weibull sd/mean = {cv:.3g} is outside what the scenario's Weibull accepts (0.01 to 20)")

    if n_cens == 0:
        ks = stats.kstest(t, chosen["cdf"])
        D, pval = float(ks.statistic), float(ks.pvalue)
        ks_note = (
            "one-sample KS of all durations against the fitted CDF; the p-value ignores that the parameters "
            "were estimated from the same data, so it is too large (the test is conservative)"
        )
    else:
        D = _km_distance(t, event, chosen["cdf"])
        pval = float(stats.kstwo.sf(D, n_events))
        ks_note = (
            "approximate with censoring: sup distance between the Kaplan–Meier estimate (whose jumps are the "
            "uncensored durations) and the fitted CDF, with a p-value from the KS distribution for the number of "
            "uncensored durations; the raw ECDF of uncensored values alone is biased short under censoring and "
            "is not used. The p-value also ignores parameter estimation"
        )
    candidates = {
        f: {k: v for k, v in r.items() if k not in ("cdf",)} | {"aic": aic[f], "delta_aic": delta[f]} for f, r in fits.items()
    }
    return DurationFit(
        family=best,
        distribution=chosen["distribution"],
        mean=chosen["mean"],
        sd=chosen["sd"],
        mean_se=chosen["mean_se"],
        aic=aic,
        delta_aic=delta,
        candidates=candidates,
        n=n,
        n_censored=n_cens,
        ks_statistic=D,
        ks_pvalue=pval,
        ks_note=ks_note,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# 3. Shares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharesFit:
    """Maximum-likelihood shares (observed proportions) in `order`, with 95% Wilson intervals.

    The last share is set to 1 − (sum of the others), clipped to [0, 1], so the shares sum to 1
    to within float rounding of one addition (checked ≤ 1e-12); it differs from count/n only by
    rounding.
    """

    order: tuple[str, ...]
    shares: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    counts: dict[str, int]
    n: int
    notes: list[str] = field(default_factory=list)


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (no continuity correction); (0, 1) if n = 0."""
    if n <= 0:
        return (0.0, 1.0)
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=1 - 2 * stats.norm.sf(z), method="wilson")
    return (float(ci.low), float(ci.high))


def fit_shares(counts: dict[str, int], order: list[str]) -> SharesFit:
    """Shares of exclusive outcomes from counts, in `order` (outcomes absent from counts are 0)."""
    order = list(order)
    if len(set(order)) != len(order) or not order:
        raise ValueError("order must be a non-empty list of distinct names")
    extra = set(counts) - set(order)
    if extra:
        raise ValueError(f"counts has outcomes not in order: {sorted(extra)}")
    c = {}
    for name in order:
        v = counts.get(name, 0)
        if int(v) != v or v < 0:
            raise ValueError(f"count for {name!r} must be a whole number >= 0, got {v!r}")
        c[name] = int(v)
    n = sum(c.values())
    if n == 0:
        raise ValueError("all counts are zero: shares are undefined")
    notes = []
    shares = {name: c[name] / n for name in order[:-1]}
    last = min(1.0, max(0.0, 1.0 - math.fsum(shares.values())))
    shares[order[-1]] = last
    total = math.fsum(shares.values())
    if abs(total - 1) > 1e-12:  # pragma: no cover - cannot happen with one subtraction
        raise AssertionError(f"shares sum to {total!r}")
    notes.append(f"{order[-1]!r} set to 1 − sum of the others so the shares sum to 1 (within 1e-12)")
    zero = [name for name in order if c[name] == 0]
    if zero:
        notes.append(f"no observations of {zero}: share 0 (Wilson upper bound shown)")
    intervals = {name: wilson_interval(c[name], n) for name in order}
    return SharesFit(
        order=tuple(order),
        shares=shares,
        lower={k: v[0] for k, v in intervals.items()},
        upper={k: v[1] for k, v in intervals.items()},
        counts=c,
        n=n,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# 4. Peak concurrency
# --------------------------------------------------------------------------------------------


_EPOCH = pd.Timestamp("1970-01-01")


def _as_float_times(values) -> np.ndarray:
    """Times as floats (datetimes -> days since 1970-01-01, any resolution), NaN/NaT -> nan."""
    arr = pd.Series(values) if not isinstance(values, pd.Series) else values.reset_index(drop=True)
    is_dates = pd.api.types.is_datetime64_any_dtype(arr) or (
        arr.dtype == object and arr.map(lambda v: isinstance(v, (dt.date, np.datetime64))).any()
    )
    if is_dates:
        return ((pd.to_datetime(arr) - _EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return pd.to_numeric(arr).to_numpy(dtype=float)


def _as_float_time(value) -> float:
    if isinstance(value, (dt.date, np.datetime64)):
        return float((pd.Timestamp(value) - _EPOCH) / pd.Timedelta(days=1))
    return float(value)


def occupancy_after(starts, ends, moments) -> np.ndarray:
    """How many intervals [start, end) are open just after each moment (intervals starting at
    that moment included, those ending at it not). Ends of NaT/NaN are still open."""
    s = np.sort(_as_float_times(starts))
    e = _as_float_times(ends)
    e = np.sort(np.where(np.isnan(e), np.inf, e))
    t = _as_float_times(moments)
    return np.searchsorted(s, t, side="right") - np.searchsorted(e, t, side="right")


def peak_concurrency(starts, ends, window_start, window_end) -> int:
    """Maximum number of intervals open at the same instant within [window_start, window_end).

    An interval is open on [start, end): someone leaving at t and someone arriving at t do not
    overlap. An end of NaT/NaN means still open (open to the end of the window). Intervals
    starting before the window and still open in it count from the window start. Times may be
    datetimes or numbers (days), but the same kind throughout.
    """
    s = _as_float_times(starts)
    e = _as_float_times(ends)
    if len(s) != len(e):
        raise ValueError("starts and ends must have the same length")
    if np.any(np.isnan(s)):
        raise ValueError("every interval needs a start")
    ws, we = _as_float_time(window_start), _as_float_time(window_end)
    if not ws < we:
        raise ValueError("window_start must be before window_end")
    e = np.where(np.isnan(e), np.inf, e)
    if np.any(e < s):
        raise ValueError("an interval ends before it starts")
    a = np.maximum(s, ws)
    b = np.minimum(e, we)
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return 0
    times = np.concatenate((a, b))
    deltas = np.concatenate((np.ones(len(a), dtype=int), -np.ones(len(b), dtype=int)))
    order = np.lexsort((deltas, times))  # at equal times, ends (−1) before starts (+1)
    return int(np.max(np.cumsum(deltas[order])))


# --------------------------------------------------------------------------------------------
# 5. Discharge-day rule: weekday leave probabilities
# --------------------------------------------------------------------------------------------


def weekday_leave_probabilities(ready_times, leave_times, observed_until=None) -> dict[str, Any]:
    """Daily probability, Mon..Sun, that a person able to leave that day leaves that day.

    This is the model's discharge-day rule (`Calendar.leave_time`): from the day a person is
    ready (the calendar day of `ready_time`, whatever the hour) each day they are still waiting
    they leave with that weekday's probability, independently of other days. Its maximum-
    likelihood estimate is a daily hazard: for each weekday, (people leaving on that weekday) ÷
    (person-days waiting on that weekday, the leaving day included).

    `leave_times` may be NaT for people still waiting: with `observed_until` (the last day fully
    observed) they count as waiting on every day up to it; without it they are left out (noted;
    that biases the probabilities up slightly). Returns
    {"probabilities": {mon..sun: p}, "leavers": {...}, "waiting": {...},
     "lower": {...}, "upper": {...} (95% Wilson), "notes": [...]},
    with every probability in (0, 1] as `WeekdayProbabilities` requires: a weekday with waiting
    people but no leavers gets 0.5 / waiting (half a leaver, noted) instead of 0; a weekday on
    which nobody was waiting is not identified by the data and gets the pooled rate over all
    weekdays (noted).
    """
    ready = pd.to_datetime(pd.Series(ready_times).reset_index(drop=True))
    leave = pd.to_datetime(pd.Series(leave_times).reset_index(drop=True))
    if len(ready) != len(leave):
        raise ValueError("ready_times and leave_times must have the same length")
    if ready.isna().any():
        raise ValueError("every person needs a ready time")
    notes: list[str] = []
    d0 = ready.dt.normalize()
    d1 = leave.dt.normalize()
    if (d1 < d0).any():
        raise ValueError(f"{int((d1 < d0).sum())} leave time(s) fall on a day before the ready day")
    still = d1.isna().to_numpy()
    waiting = np.zeros(7, dtype=np.int64)
    leavers = np.zeros(7, dtype=np.int64)

    def add_days(start: pd.Series, end_inclusive: pd.Series):
        # Person-days on each weekday over [start, end] (inclusive), counted in whole weeks + remainder.
        n_days = ((end_inclusive - start).dt.days + 1).to_numpy()
        wd0 = start.dt.day_of_week.to_numpy()
        full, rem = np.divmod(n_days, 7)
        waiting[:] += int(full.sum())
        for r in range(1, 7):
            sel = rem >= r
            np.add.at(waiting, (wd0[sel] + r - 1) % 7, 1)

    left = ~still
    if left.any():
        add_days(d0[left], d1[left])
        np.add.at(leavers, d1[left].dt.day_of_week.to_numpy(), 1)
    if still.any():
        if observed_until is None:
            notes.append(
                f"{int(still.sum())} person(s) still waiting left out (no observed_until given); this biases "
                "the probabilities up slightly"
            )
        else:
            end = pd.Timestamp(observed_until).normalize()
            sel = still & (d0 <= end).to_numpy()
            if sel.any():
                add_days(d0[sel], pd.Series([end] * int(sel.sum()), index=d0[sel].index))
            notes.append(f"{int(still.sum())} person(s) still waiting counted as waiting up to {end.date()} (censored)")

    total_w, total_l = int(waiting.sum()), int(leavers.sum())
    if total_w == 0 or total_l == 0:
        raise ValueError("no one observed leaving: the probabilities cannot be estimated")
    pooled = total_l / total_w
    probs, lower, upper = {}, {}, {}
    for i, day in enumerate(WEEKDAYS):
        w, left = int(waiting[i]), int(leavers[i])
        if w == 0:
            probs[day] = pooled
            lower[day], upper[day] = 0.0, 1.0
            notes.append(f"nobody waiting on a {day}: not identified by the data; the pooled rate {pooled:.3g} is used")
            continue
        if left == 0:
            probs[day] = 0.5 / w
            notes.append(f"no one left on a {day} ({w} waiting): 0.5/{w} used instead of 0 (the model needs p > 0)")
        else:
            probs[day] = left / w
        lower[day], upper[day] = wilson_interval(left, w)
    return {
        "probabilities": probs,
        "leavers": {d: int(leavers[i]) for i, d in enumerate(WEEKDAYS)},
        "waiting": {d: int(waiting[i]) for i, d in enumerate(WEEKDAYS)},
        "lower": lower,
        "upper": upper,
        "notes": notes,
    }
