"""Distributions: sampled moments, inverse-transform properties, parameter validation.

Expected values come from theory (the parameters themselves, hand-worked moments, scipy.stats
quantile functions with parameters derived here from the mean and sd), never from the code
under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import optimize, special, stats

from sim.inputs.distributions import Distribution

ADAPTER = TypeAdapter(Distribution)
N = 200_000
SEED = 12345


def make(**params):
    return ADAPTER.validate_python(params)


# (id, parameters, theoretical mean, theoretical sd). For the empirical family the moments are
# worked by hand: values 1, 2, 3, 10 each with probability 1/4 -> mean 16/4 = 4,
# variance ((1-4)^2 + (2-4)^2 + (3-4)^2 + (10-4)^2) / 4 = (9 + 4 + 1 + 36) / 4 = 12.5.
CASES = [
    ("exponential", dict(family="exponential", mean=4.0), 4.0, 4.0),
    ("lognormal", dict(family="lognormal", mean=10.0, sd=6.0), 10.0, 6.0),
    ("lognormal-cv>1", dict(family="lognormal", mean=3.0, sd=4.0), 3.0, 4.0),
    ("gamma", dict(family="gamma", mean=10.0, sd=6.0), 10.0, 6.0),
    ("gamma-cv>1", dict(family="gamma", mean=2.0, sd=3.0), 2.0, 3.0),
    ("weibull", dict(family="weibull", mean=10.0, sd=6.0), 10.0, 6.0),
    ("weibull-cv>1", dict(family="weibull", mean=5.0, sd=7.0), 5.0, 7.0),
    ("beta", dict(family="beta", mean=0.55, sd=0.2), 0.55, 0.2),
    ("empirical", dict(family="empirical", values=[3.0, 1.0, 10.0, 2.0]), 4.0, math.sqrt(12.5)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, params, mean, sd", CASES, ids=IDS)
def test_sample_mean_and_sd_match_parameters(name, params, mean, sd):
    """Sample mean and sd of N draws agree with the parameters within 5 standard errors.

    Tolerances: the sample mean has standard error sd/sqrt(N). The sample variance s^2 has
    standard error sqrt((mu4 - sd^4)/N) (mu4 = fourth central moment, estimated from the same
    sample, which is consistent for these light- and moderately heavy-tailed cases), and by the
    delta method s has standard error SE(s^2) / (2 sd). A 5-SE band has a two-sided false-alarm
    probability of about 6e-7 per check under a correct implementation; the seed is fixed, so
    the test is deterministic anyway. A wrong parameterisation (e.g. sd used as variance, or a
    truncated tail) shifts the moments by far more than 5 SE at N = 200,000.
    """
    x = make(**params).sample(np.random.default_rng(SEED), N)
    assert x.shape == (N,)
    se_mean = sd / math.sqrt(N)
    assert abs(x.mean() - mean) <= 5 * se_mean, (x.mean(), mean, se_mean)

    centred = x - x.mean()
    mu4 = float(np.mean(centred**4))
    se_var = math.sqrt(max(mu4 - sd**4, 0.0) / N)
    se_sd = se_var / (2 * sd)
    assert abs(x.std(ddof=1) - sd) <= 5 * se_sd, (x.std(ddof=1), sd, se_sd)


def test_deterministic_gives_its_value_and_zero_gives_zeros():
    rng = np.random.default_rng(SEED)
    assert np.array_equal(make(family="deterministic", mean=0.0).sample(rng, 1000), np.zeros(1000))
    assert np.array_equal(make(family="deterministic", mean=2.5).sample(rng, 7), np.full(7, 2.5))
    assert np.array_equal(make(family="deterministic", mean=0.0).from_uniform([0.0, 0.3, 0.999]), np.zeros(3))


def test_empirical_draws_each_value_with_equal_probability():
    """Each of the 4 values appears with probability 1/4: binomial counts within 5 SE of N/4."""
    values = [3.0, 1.0, 10.0, 2.0]
    x = make(family="empirical", values=values).sample(np.random.default_rng(SEED), N)
    assert set(np.unique(x)) == set(values)
    se = math.sqrt(N * 0.25 * 0.75)
    for v in values:
        assert abs(np.sum(x == v) - N / 4) <= 5 * se


def test_empirical_reports_population_moments():
    d = make(family="empirical", values=[3.0, 1.0, 10.0, 2.0])
    assert d.mean == pytest.approx(4.0, rel=1e-12)
    assert d.sd == pytest.approx(math.sqrt(12.5), rel=1e-12)


def test_beta_samples_are_shares():
    x = make(family="beta", mean=0.55, sd=0.2).sample(np.random.default_rng(SEED), N)
    assert np.all((x >= 0) & (x <= 1))


# ---------------------------------------------------------------------------------------------
# Inverse transform


def _weibull_shape(cv: float) -> float:
    """Weibull shape k with coefficient of variation cv: Gamma(1+2/k)/Gamma(1+1/k)^2 - 1 = cv^2."""
    f = lambda k: special.gamma(1 + 2 / k) / special.gamma(1 + 1 / k) ** 2 - 1 - cv**2
    return optimize.brentq(f, 0.1, 200.0, xtol=1e-14)


def _scipy_equivalent(params):
    """The same distribution built independently in scipy.stats from textbook mean/sd formulas."""
    fam, m = params["family"], params["mean"]
    if fam == "exponential":
        return stats.expon(scale=m)
    s = params["sd"]
    if fam == "lognormal":
        sigma2 = math.log(1 + (s / m) ** 2)
        return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(m) - sigma2 / 2))
    if fam == "gamma":
        return stats.gamma(a=(m / s) ** 2, scale=s**2 / m)
    if fam == "weibull":
        k = _weibull_shape(s / m)
        return stats.weibull_min(c=k, scale=m / special.gamma(1 + 1 / k))
    if fam == "beta":
        nu = m * (1 - m) / s**2 - 1
        return stats.beta(a=m * nu, b=(1 - m) * nu)
    raise AssertionError(fam)


PARAMETRIC = [c for c in CASES if c[1]["family"] != "empirical"]


@pytest.mark.parametrize("name, params, mean, sd", PARAMETRIC, ids=[c[0] for c in PARAMETRIC])
def test_from_uniform_is_the_quantile_function(name, params, mean, sd):
    """from_uniform(u) equals the scipy.stats ppf of the same distribution (built independently)."""
    u = np.linspace(0.001, 0.999, 999)
    reference = _scipy_equivalent(params)
    assert reference.mean() == pytest.approx(mean, rel=1e-9)
    assert reference.std() == pytest.approx(sd, rel=1e-9)
    np.testing.assert_allclose(make(**params).from_uniform(u), reference.ppf(u), rtol=1e-7, atol=1e-12)


ALL_FAMILIES = CASES + [
    ("deterministic", dict(family="deterministic", mean=2.5), 2.5, 0.0),
    ("deterministic-0", dict(family="deterministic", mean=0.0), 0.0, 0.0),
]


@pytest.mark.parametrize("name, params, mean, sd", ALL_FAMILIES, ids=[c[0] for c in ALL_FAMILIES])
def test_from_uniform_is_monotone_and_finite(name, params, mean, sd):
    """Common random numbers: a larger uniform never gives a smaller value.

    The grid covers [0, 1) as Generator.random produces it: multiples of 2**-53, so the
    extremes are 0, 2**-53 and 1 - 2**-53.
    """
    rng = np.random.default_rng(SEED)
    u = np.sort(np.concatenate([[0.0, 2**-53, 0.5, 1 - 2**-53], np.linspace(1e-12, 1 - 1e-12, 20001), rng.random(20000)]))
    x = make(**params).from_uniform(u)
    assert np.all(np.isfinite(x))
    assert np.all(x >= 0)
    assert np.all(np.diff(x) >= 0)


@pytest.mark.parametrize("name, params, mean, sd", ALL_FAMILIES, ids=[c[0] for c in ALL_FAMILIES])
def test_sample_uses_one_uniform_per_value(name, params, mean, sd):
    """sample(rng, n) is from_uniform of the next n uniforms of rng, so a stream stays aligned."""
    d = make(**params)
    a, b = np.random.default_rng(99), np.random.default_rng(99)
    np.testing.assert_array_equal(d.sample(a, 500), d.from_uniform(b.random(500)))
    assert a.random() == b.random()  # both generators consumed exactly 500 uniforms


@pytest.mark.parametrize("family", ["exponential", "lognormal", "gamma", "weibull"])
def test_scale_families_scale_each_draw(family):
    """Multiplying mean and sd by c multiplies every draw by c (each person's stay lengthens)."""
    base = dict(family=family, mean=4.0) if family == "exponential" else dict(family=family, mean=4.0, sd=3.0)
    scaled = {k: (v * 2.5 if k in ("mean", "sd") else v) for k, v in base.items()}
    u = np.random.default_rng(SEED).random(1000)
    np.testing.assert_allclose(make(**scaled).from_uniform(u), 2.5 * make(**base).from_uniform(u), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Validation

INVALID = [
    ("exponential negative mean", dict(family="exponential", mean=-1.0)),
    ("exponential zero mean", dict(family="exponential", mean=0.0)),
    ("deterministic negative", dict(family="deterministic", mean=-0.5)),
    ("lognormal negative mean", dict(family="lognormal", mean=-2.0, sd=1.0)),
    ("lognormal zero sd", dict(family="lognormal", mean=2.0, sd=0.0)),
    ("lognormal missing sd", dict(family="lognormal", mean=2.0)),
    ("gamma negative sd", dict(family="gamma", mean=2.0, sd=-1.0)),
    ("weibull cv too large", dict(family="weibull", mean=1.0, sd=50.0)),
    ("beta mean above 1", dict(family="beta", mean=1.2, sd=0.1)),
    ("beta mean 0", dict(family="beta", mean=0.0, sd=0.1)),
    # sd^2 must be below mean*(1-mean): 0.5^2 = 0.25 is not below 0.25; 0.31^2 = 0.0961 > 0.09
    ("beta sd too big (0.5, 0.5)", dict(family="beta", mean=0.5, sd=0.5)),
    ("beta sd too big (0.1, 0.31)", dict(family="beta", mean=0.1, sd=0.31)),
    ("empirical empty", dict(family="empirical", values=[])),
    ("empirical negative value", dict(family="empirical", values=[1.0, -2.0])),
    ("unknown family", dict(family="normal", mean=1.0, sd=1.0)),
    ("missing family", dict(mean=1.0, sd=1.0)),
    ("extra key", dict(family="exponential", mean=1.0, sd=1.0)),
    ("extra key on mean/sd family", dict(family="gamma", mean=1.0, sd=1.0, shape=2.0)),
    ("string for number", dict(family="exponential", mean="5")),
    ("bool for number", dict(family="exponential", mean=True)),
]


@pytest.mark.parametrize("params", [c[1] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_parameters_are_rejected(params):
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(params)


NON_FINITE = [
    ("exponential mean inf", dict(family="exponential", mean=math.inf)),
    ("lognormal sd inf", dict(family="lognormal", mean=5.0, sd=math.inf)),
    ("deterministic inf", dict(family="deterministic", mean=math.inf)),
    ("empirical value inf", dict(family="empirical", values=[1.0, math.inf])),
]


@pytest.mark.parametrize("params", [c[1] for c in NON_FINITE], ids=[c[0] for c in NON_FINITE])
def test_non_finite_parameters_are_rejected(params):
    """TOML accepts `inf`; a duration with infinite mean or sd has no meaningful sample mean
    (the module promises "the sampled mean is the parameter"), so it must be rejected."""
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(params)


def test_integer_parameters_are_accepted_as_numbers():
    """TOML users write `mean = 5`; strict mode must still accept an int where a float is due."""
    d = make(family="exponential", mean=5)
    assert d.mean == 5.0 and isinstance(d.mean, float)
