"""Duration (and share) distributions, parameterised by what users know: the mean and sd.

Every family samples by inverse transform from uniforms, so each person keeps their own
quantile when a scenario changes a distribution: nobody's draw shifts another's, and if a
scenario scales a distribution (mean and sd together) every person's draw scales with it. Families never truncate, so the sampled mean is the parameter
(IPACS silently lost up to half of its P1 length of stay to truncation).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationInfo, model_validator
from scipy import special
from scipy.optimize import brentq

# No scenario figure (days, people, hours, rates, populations) is anywhere near this: a larger
# number is a typo or a hostile file, and would overflow or run for ever rather than fail.
LARGEST_NUMBER = 1e9
UNBOUNDED_FIELDS = frozenset({"seed"})  # any integer seeds the generator


def refuse_absurd_numbers(cls, value, info: ValidationInfo):
    """An after-validator for every field of an input model: numbers beyond ±LARGEST_NUMBER
    (in the field or in its arrays and tables; nested models check their own) are refused
    before anything runs."""
    if info.field_name not in UNBOUNDED_FIELDS:
        _check_magnitude(value)
    return value


def _check_magnitude(value) -> None:
    if isinstance(value, bool | BaseModel):
        return
    if isinstance(value, int | float):
        # inf here is "unlimited" (a typed inf or NaN is refused by allow_inf_nan, with its own message)
        if LARGEST_NUMBER < abs(value) < math.inf:
            raise ValueError(f"expected a number between -{LARGEST_NUMBER:.0e} and {LARGEST_NUMBER:.0e}")
    elif isinstance(value, dict):
        for item in value.values():
            _check_magnitude(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_magnitude(item)


class _Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_absurd_numbers(cls, data):
        # a model-level check: the discriminator `family` may not carry a field validator
        for key, value in data.items() if isinstance(data, dict) else ():
            try:
                _check_magnitude(value)
            except ValueError as exc:
                raise ValueError(f"{key} = {value!r}: {exc}") from None
        return data

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw `size` values from `rng` (one uniform per value)."""
        return self.from_uniform(rng.random(size))


class Exponential(_Family):
    family: Literal["exponential"]
    mean: PositiveFloat

    @property
    def sd(self) -> float:
        return self.mean

    def from_uniform(self, u):
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))


class Deterministic(_Family):
    """A fixed value (zero allowed: a delay that does not happen)."""

    family: Literal["deterministic"]
    mean: float = Field(ge=0)

    @property
    def sd(self) -> float:
        return 0.0

    def from_uniform(self, u):
        return np.full(np.shape(u), self.mean, dtype=float)


class _MeanSd(_Family):
    mean: PositiveFloat
    sd: PositiveFloat


class Lognormal(_MeanSd):
    family: Literal["lognormal"]

    @cached_property
    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def from_uniform(self, u):
        mu, sigma = self._mu_sigma
        return np.exp(mu + sigma * special.ndtri(np.asarray(u, dtype=float)))


class Gamma(_MeanSd):
    family: Literal["gamma"]

    def from_uniform(self, u):
        shape = (self.mean / self.sd) ** 2
        scale = self.sd**2 / self.mean
        return special.gammaincinv(shape, np.asarray(u, dtype=float)) * scale


class Weibull(_MeanSd):
    family: Literal["weibull"]

    @model_validator(mode="after")
    def _cv_in_range(self):
        cv = self.sd / self.mean
        if not 0.01 <= cv <= 20:
            raise ValueError(f"sd/mean = {cv:.3g} is outside what a Weibull can fit (0.01 to 20)")
        return self

    @cached_property
    def _shape_scale(self) -> tuple[float, float]:
        cv2 = (self.sd / self.mean) ** 2

        def excess(log_k: float) -> float:
            k = math.exp(log_k)
            g1 = math.lgamma(1 + 1 / k)
            g2 = math.lgamma(1 + 2 / k)
            return math.exp(g2 - 2 * g1) - 1 - cv2

        k = math.exp(brentq(excess, math.log(0.05), math.log(500.0), xtol=1e-12))
        return k, self.mean / math.gamma(1 + 1 / k)

    def from_uniform(self, u):
        k, scale = self._shape_scale
        return scale * (-np.log1p(-np.asarray(u, dtype=float))) ** (1 / k)


class Beta(_MeanSd):
    """A share in (0, 1), e.g. the part of a homecare package still needed after reablement."""

    family: Literal["beta"]
    mean: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def _feasible(self):
        if self.sd**2 >= self.mean * (1 - self.mean):
            raise ValueError(
                f"sd {self.sd} is too large for a share with mean {self.mean}: "
                f"sd must be below {math.sqrt(self.mean * (1 - self.mean)):.4g}"
            )
        return self

    def from_uniform(self, u):
        common = self.mean * (1 - self.mean) / self.sd**2 - 1
        a, b = self.mean * common, (1 - self.mean) * common
        return special.betaincinv(a, b, np.asarray(u, dtype=float))


class Empirical(_Family):
    """Resample observed values, each with equal probability."""

    family: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

    @cached_property
    def _sorted(self) -> np.ndarray:
        return np.sort(np.asarray(self.values, dtype=float))

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        return float(np.std(self.values))

    def from_uniform(self, u):
        values = self._sorted
        index = np.minimum((np.asarray(u) * len(values)).astype(int), len(values) - 1)
        return values[index]


Distribution = Annotated[
    Union[Exponential, Deterministic, Lognormal, Gamma, Weibull, Beta, Empirical],
    Field(discriminator="family"),
]

FAMILIES = ("exponential", "deterministic", "lognormal", "gamma", "weibull", "beta", "empirical")


# ---------------------------------------------------------------------------------------------
# Remaining time given time already spent (a census start)


def cdf(dist, x) -> np.ndarray:
    """F(x) = P(S <= x) of a scenario distribution, by bisection on its inverse (any family).

    Every family samples by inverse transform, so F(x) = sup{u : F⁻¹(u) <= x}; 60 halvings
    find it to 1e-18, which is below the resolution of a double near 1.
    """
    x = np.asarray(x, dtype=float)
    lo = np.zeros(x.shape)
    hi = np.ones(x.shape)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = np.asarray(dist.from_uniform(mid)) <= x
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return lo


def conditional_total(dist, elapsed, u, scale: float = 1.0) -> np.ndarray:
    """Whole stay S (unscaled) given scale·S > elapsed, by inverse transform on the uniform u:
    F⁻¹(F(a) + u (1 - F(a))) with a = elapsed / scale. The remaining time is scale·S - elapsed.

    If the elapsed time is beyond anything the distribution gives (F(a) = 1, e.g. a
    deterministic stay already over), the stay ends now: S = a.
    """
    a = np.asarray(elapsed, dtype=float) / scale
    u = np.asarray(u, dtype=float)
    fa = cdf(dist, a)
    q = fa + u * (1 - fa)
    q = np.minimum(q, np.nextafter(1.0, 0.0))
    total = np.asarray(dist.from_uniform(q), dtype=float)
    return np.maximum(total, a)  # rounding at a quantile's edge never gives a negative remainder


def residual(dist, elapsed, u, scale: float = 1.0) -> np.ndarray:
    """Remaining time of a stay already `elapsed` long: scale·S - elapsed given scale·S > elapsed."""
    return scale * conditional_total(dist, elapsed, u, scale) - np.asarray(elapsed, dtype=float)
