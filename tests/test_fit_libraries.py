"""The library statistics in sim/calibrate/fit.py give the answers of the code they replaced.

fit.py once hand-wrote its statistics: a Poisson GLM by IRLS, censored maximum likelihood by
Nelder–Mead + BFGS with a finite-difference Hessian, a Kaplan–Meier product and the Wilson
formula. They are now statsmodels' GLM, scipy's censored `fit` with statsmodels' `approx_hess`,
`scipy.stats.ecdf` and `scipy.stats.binomtest(...).proportion_ci`. Every OLD_* value below was
computed once with the hand-written code (fit.py at commit 05e23b9, before the change) and
pasted here: none was produced by the new code. Other expected values are worked by hand or
published, and say so. Each tolerance says why it is that size; each is far below the
statistical uncertainty of the figure (its standard error), so a change of method fails (checked:
a dispersion-scaled GLM covariance, scipy's default `fit` optimizer, a different SE of the mean,
censorings leaving the risk set before tied events, a continuity-corrected Wilson interval).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibrate.fit import _km_distance, fit_arrivals, fit_duration, fit_shares, wilson_interval

# --------------------------------------------------------------------------------------------
# Fixed inputs
# --------------------------------------------------------------------------------------------

# From the shipped synthetic extract: `icsim synth --years 2 --seed 21 --out /tmp/extract`, read
# with `read_extract("/tmp/extract", "2027-04-01")` (history 2025-04-01 .. 2027-03-31). Frozen
# here, not regenerated, so that edits to the synthesiser cannot move the expected values:
# * COUNTS: admissions per day (spells.admission_ts floored to the day), 730 days from 2025-04-01.
# * P2: clinical stay (ready_ts − admission_ts) in seconds of the P2 spells admitted in the
#   history's first 90 days, by spell_id (no censoring).
# * BED: bed episodes started in the last 120 days before the extract date, by episode_id:
#   end_ts − start_ts in seconds, or extract date − start_ts with a "+" where end_ts is missing
#   (still in a bed: right-censored; 189 of 426).
COUNTS_TEXT = """
78 76 69 88 59 70 75 99 67 54 84 51 62 73 75 64 69 89 62 70 78 87 75 57 73 70 83 71 71 65 69 66 62 75 72 72 56 59 64 65 63
87 70 83 71 79 46 74 90 73 65 74 75 58 61 80 64 70 64 56 57 61 73 73 63 68 87 63 61 68 80 71 69 80 52 51 90 79 71 64 79 76
56 82 68 79 71 78 76 60 91 74 84 70 90 62 66 99 83 68 75 58 62 62 85 78 54 62 74 67 60 78 50 67 68 63 63 62 82 77 81 68 62
70 58 64 72 75 74 60 62 66 77 73 53 79 75 53 58 84 89 73 64 67 70 52 94 81 61 54 71 76 57 82 69 65 82 75 64 61 69 87 76 77
82 64 68 92 75 73 78 68 67 77 79 78 76 89 82 65 71 90 78 71 83 83 83 79 90 76 67 80 75 58 64 71 86 87 70 84 67 70 73 78 85
68 87 57 61 90 81 67 69 70 70 61 66 92 73 72 85 66 62 89 79 82 65 84 55 77 89 87 81 61 76 77 75 65 84 78 75 76 66 69 84 88
76 82 82 64 75 72 81 75 64 70 70 61 80 72 81 78 71 69 62 77 77 64 72 77 64 56 91 77 80 89 85 66 81 78 74 82 67 84 74 81 101
83 81 92 78 73 55 87 78 70 85 86 77 83 89 95 66 86 71 74 71 85 68 86 63 84 77 70 96 86 79 72 84 83 67 97 69 76 89 71 63 69
93 89 76 60 65 77 74 82 95 81 84 98 65 80 80 95 72 87 77 68 60 98 83 66 79 78 65 66 97 90 69 73 81 80 74 79 70 65 70 76 64
65 77 81 56 80 64 63 65 81 80 78 72 62 57 67 81 69 58 80 68 72 84 87 67 67 81 82 76 74 79 92 70 64 86 55 55 73 87 78 100 63
69 53 71 79 63 85 84 49 68 73 70 55 74 62 54 68 89 66 69 63 69 80 63 82 66 61 73 61 60 61 89 75 74 69 73 57 59 100 67 73 50
84 70 60 66 89 73 81 74 65 56 80 77 85 82 75 68 49 76 73 73 69 71 67 60 87 90 98 64 63 70 63 88 73 66 83 73 47 49 90 80 64
63 76 60 69 76 77 76 69 79 68 61 75 66 91 65 64 86 69 70 82 63 85 59 77 73 67 81 70 62 85 68 80 73 91 85 81 88 87 65 68 83
74 72 58 74 69 74 70 71 72 73 68 45 87 99 68 78 77 59 53 71 68 76 64 76 63 70 82 76 79 78 69 78 70 80 72 70 77 94 72 80 92
69 67 72 75 66 83 87 81 100 71 69 80 71 82 87 100 83 79 74 79 116 79 83 65 78 88 78 87 78 83 73 82 65 70 94 81 84 89 74 74
66 84 80 87 97 83 57 60 85 78 84 80 74 69 56 88 78 79 85 78 69 65 85 77 71 84 71 61 90 86 89 80 85 89 75 64 77 70 64 72 79
81 66 65 86 78 80 66 72 72 85 75 82 84 75 75 79 88 88 86 84 93 73 61 88 76 94 73 76 88 73 95 97 64 87 75 61 64 90 88 87 77
78 73 61 80 89 73 88 80 54 74 88 94 78 88 85 68 65 71 71 80 81 73 71 83 73 81 80 82 89 58 76 82 83 80
"""
P2_TEXT = """
396628 414299 1189831 1333976 528478 729774 898421 795206 759242 1324491 231548 570741 1028602 1641912 312659 1652354
1313973 3029914 578304 1121610 657012 1448158 1417234 782095 684872 645285 838174 1132356 698540 604018 882065 1267647
6239898 695404 582503 817081 3300298 331486 1469962 2124616 1917779 738179 759129 1300882 1225268 1526750 756512 2923986
842152 2515860 1257972 603158 693620 620842 2222669 847674 659192 527603 194780 344423 1149822 1260600 813184 592995 627174
1114314 4129647 674342 734855 599757 464145 2022821 1608949 234594 2075119 153657 857843 1091540 540626 587807 1268943
244795 326762 3582843 802722 1309806 369985 340550 2832389 2039378 825163 852366 2210373 2829607 327356 300647 500485
1684536 1044358 474946 751095 718345 723029 1541802 425479 1065502 744186 2933335 150293 441117 1836602 493613 483270 991289
948338 492398 1536584 716624 142840 509800 943178 1619817 635499 1408571 891440 110276 849128 679692 591406 934278 276083
619878 677594 1006959 318011 737307 1574578 996534 2184971 954277 2584864 341755 1212708 1085035 1059440 1239482 2788129
349089 363730 561794 1465731 541577 1056123 540965 152629 743089 306145 2310988 523869 871181 336418 1107825 2311799 2348631
324899 249602 387484 1121846 1157874 307150 666344 394285 764368 961057 437217 353224 1082422 1456465 2623052 228729 1467070
529590 372963 493265 1083318 1104817 2257160 3287969 2308954 410202 562686 2029803 2692843 1360663 1647724 817277 483860
885289 943607 854831 640874 1079639 298067 619284 848695 655647 1183804 539522 1635445 1499032 400417 1328014 1258987 943305
1015160 7250300 1838688 1646769 1063138 528081 417883 491563 1122018 813978 190475 195408 1603086 1171791 485355 3845953
816036 611455 521469 2279895 333908 527666 588738 1214491 5001101 430311 1411015 933239 1221717 601829 1409071 989936 377774
508476 1336500 934276 1717178 849979 947174 565887 365634 379513 507428 576750 4083438 909567 201744 369128 732073 997519
415775 958150 468609 227574 179032 5814692 2355510 929359 1124365 833753 624542 351168 479852 1423680 1683883 578268 1238014
1903012 557244 230919 1142875 2113729 882451 1217316 1092855 1706986 1346826 1992715 1449327 794855 1078063 630210 1793711
1960147 164095 3358632 723243 1534590 212392 1403060 359479 1116935 1081366 514832 844620
"""
BED_TEXT = """
5527967 2919452 4173752 3578557 3832067 5868439 3188146 2497645 1441657 4442225 3070122 7268462 5415178 3197409 9633600+
4445361 2917843 4743266 3539482 4320000 9806400+ 2540561 4466115 4486888 5311348 3764023 2774618 5774713 3927457 7332945
2615138 5355175 5564276 3440763 9520899+ 5688415 4325641 4022832 5186809 1061362 4060800 2673487 2459884 2374296 4482254
5721289 3914970 2398495 7108916 2312756 4003547 2830448 5179120 3618050 6261516 2890776 8205199 5971000 4195286 5933864
2675957 2983388 1062175 5580905 7207724 5745410 3299764 3287562 4175422 3022113 3629444 2510791 8661611+ 6393600 3024000
3301009 7862400 2887665 6663706 4007420 4411024 3009305 3311286 3486365 3841553 7382661 3099982 3322843 6060292 5779467
2377984 5336298 2919681 3385973 3057234 2076061 4422556 3306428 4560837 5516223 3094386 3555020 5545873 4867185 7964263+
3709145 2989941 2011710 2248494 5744717 3369600 1619238 4185680 7453331 5444686 2875006 6014292 5007393 2494091 2052302
4882007 1931465 5807608 5442250 3081968 3398923 6483698 3773594 946565 3840114 3730704 4493987 6782400+ 7128000+ 5076024
6881546 3588236 3871117 6872450 6696000+ 2399340 2737173 3364629 3519025 6612518+ 4709048 6868800+ 1296000 5158212 4424567
4379499 6844957+ 4408056 3387816 6716705+ 5177472 6696000+ 5083344 6573364+ 6573443+ 5711677 3043841 2160000 2255459 4485314
5053909 2674797 2353627 2419200 2505600 3923349 3893197 4687962 5247272 2103803 2189216 2482400 6084129 5702400 4826849
3239692 2745794 5501509 5389790 5940997+ 2666689 1920451 5915939+ 5898874+ 1005254 3935888 1008465 5396628 5717628+ 4665600
5572800+ 3367506 2338851 2447509 3406540 3145975 2549529 5572800+ 5336011+ 5360462+ 4648316 3851625 5622770+ 5168267+
4077278 2629855 3447878 4745272 3715200 3519894 2160000 5054400+ 5048759+ 4402106 3676837 4968000+ 3955142 2771607 4147200
4881600+ 4881600+ 4795200+ 3892131 4296307 4887343+ 1930130 4897614+ 3737358 4831060+ 3231921 4788666+ 4824626+ 4119836
4608125 4772046+ 1681194 4071346 4881600+ 3667114 3833331 2173474 2507949 3180237 3697420 4449600+ 2505600 4068329 4488186+
4685572+ 2810784 4190400+ 4339646 3589882 4276800+ 2130269 4276800+ 4110055+ 3652256 4203646+ 4098747+ 4154666+ 4087560
4094941+ 3973439+ 3654403 3844800+ 3817516+ 3695444 2879402 4039339+ 3585600+ 2385106 3903449 3685985+ 3867089+ 3608800+
3758400+ 3585600+ 3431211+ 3222368 2160000 3524509+ 3326400+ 3153600+ 3352892+ 2980800+ 3212551 3758400+ 2328610 2664313
3547120+ 3499200+ 2971400+ 3605460+ 3585600+ 2195618 3345406+ 3233949+ 3067200+ 2359332 2690111 2494264 3244971+ 2946307+
2950153+ 3130969+ 2894400+ 2824433+ 2829866+ 2750216+ 3073996+ 2635200+ 2925758+ 2894400+ 2635200+ 2906286+ 2289600+
2376000+ 2322289+ 2548800+ 2622203+ 2289600+ 2289600+ 2282793+ 2359727+ 2578481+ 1371805 1669502 2289600+ 2444233+ 2187821+
2265175+ 2254251+ 2230101+ 2030400+ 2079860+ 2198003+ 2180829+ 1965590+ 1944000+ 1952122+ 1944000+ 1315372 2030400+ 1857600+
1857600+ 1771200+ 1723163+ 1944000+ 1476879+ 1339200+ 1944000+ 1390141 1252800+ 1231011+ 1339200+ 1796809+ 1857600+ 1684800+
1466016+ 1785456+ 1303267+ 1166400+ 1747486+ 1339200+ 1628183+ 1579592+ 1577989+ 1339200+ 1166400+ 1080000+ 1286894+
1027303+ 1166400+ 1074534+ 907200+ 1001412+ 1028023+ 953609+ 989469+ 734400+ 766379+ 820800+ 400136+ 930328+ 823503+ 561600+
648000+ 648000+ 151286+ 758093+ 734400+ 648000+ 741128+ 561600+ 561600+ 648000+ 634484+ 561600+ 561600+ 517424+ 308699+
127656+ 537989+ 536032+ 216000+ 561600+ 43200+ 513123+ 459449+ 442802+ 420351+ 359304+ 206433+ 216000+ 216000+ 44067+
302400+ 187075+ 48683+ 43200+
"""
EXTRACT_START = pd.Timestamp("2025-04-01")
SECONDS_PER_DAY = 86_400


def extract_counts() -> pd.Series:
    values = [int(v) for v in COUNTS_TEXT.split()]
    return pd.Series(values, index=pd.date_range(EXTRACT_START, periods=len(values), freq="D"))


def extract_durations(text: str) -> tuple[np.ndarray, np.ndarray]:
    tokens = text.split()
    days = np.array([int(v.rstrip("+")) for v in tokens]) / SECONDS_PER_DAY
    return days, np.array([v.endswith("+") for v in tokens])


SIM_REF = pd.Timestamp("2021-04-01")


def simulated_counts(days: int, seed: int, overdispersion: float | None = None) -> pd.Series:
    """Daily Poisson (or gamma-Poisson) counts with seasonality, a weekday pattern and 5% growth."""
    dates = pd.date_range(SIM_REF, periods=days, freq="D")
    monthly = np.array([1.15, 1.10, 1.00, 0.95, 0.90, 0.88, 0.90, 0.92, 0.97, 1.03, 1.08, 1.12])
    weekday = np.array([1.20, 1.10, 1.05, 1.00, 1.00, 0.80, 0.85])
    lam = 30.0 * monthly[dates.month - 1] * weekday[dates.day_of_week] * 1.05 ** ((dates - SIM_REF).days.to_numpy() / 365)
    rng = np.random.default_rng(seed)
    if overdispersion is not None:
        lam = lam * rng.gamma(overdispersion, 1 / overdispersion, size=len(lam))
    return pd.Series(rng.poisson(lam), index=dates)


def weekdays_with_gaps() -> pd.Series:
    """Two years of weekday-only counts (5 weekday levels), 15 days absent and 3 missing (NaN)."""
    counts = simulated_counts(730, seed=3).astype(float)
    counts = counts[counts.index.day_of_week < 5]
    rng = np.random.default_rng(4)
    counts = counts.drop(counts.index[rng.choice(len(counts), 15, replace=False)])
    counts.iloc[[10, 200, 400]] = np.nan
    return counts


ARRIVAL_CASES = {  # name: (daily counts, reference date)
    "poisson_3y": lambda: (simulated_counts(3 * 365 + 1, seed=2024), SIM_REF),
    "short_200_days": lambda: (simulated_counts(200, seed=7), SIM_REF),  # 7 months: months fixed at 1
    "overdispersed_3y": lambda: (simulated_counts(3 * 365, seed=11, overdispersion=5.0), SIM_REF),
    "weekdays_with_gaps": lambda: (weekdays_with_gaps(), SIM_REF),
    "extract_admissions": lambda: (extract_counts(), EXTRACT_START),
}


def _lognormal(mean, sd):
    s2 = math.log1p((sd / mean) ** 2)
    return stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))


TRUE_DURATIONS = {
    "exponential": stats.expon(scale=7.0),
    "lognormal": _lognormal(10.0, 9.0),
    "gamma": stats.gamma(a=(10 / 6) ** 2, scale=36 / 10),  # mean 10, sd 6
    "weibull": stats.weibull_min(c=1.7, scale=10.0),
}


def simulated_durations(family: str, censored: bool, n: int = 2000) -> tuple[np.ndarray, np.ndarray | None]:
    """n draws from TRUE_DURATIONS[family]; with `censored`, independent exponential censoring
    with mean 2.5 × the true mean (about 30% censored)."""
    rng = np.random.default_rng(500 + len(family) + 10 * censored)
    dist = TRUE_DURATIONS[family]
    t = dist.rvs(n, random_state=rng)
    if not censored:
        return t, None
    c = rng.exponential(2.5 * dist.mean(), n)
    return np.minimum(t, c), c < t


DURATION_CASES = {  # name: () -> (durations, censored or None)
    **{f"{f}{'_censored' if c else ''}": (lambda f=f, c=c: simulated_durations(f, c)) for f in TRUE_DURATIONS for c in (False, True)},
    "extract_p2_stay": lambda: (extract_durations(P2_TEXT)[0], None),
    "extract_bed_censored": lambda: extract_durations(BED_TEXT),
}


# --------------------------------------------------------------------------------------------
# Today's answers, from the hand-written code (fit.py at 05e23b9), 15 significant digits
# --------------------------------------------------------------------------------------------

OLD_ARRIVALS = {
    "poisson_3y": dict(
        rate_per_day=30.200935416102,
        rate_se=0.343883973252907,
        annual_growth=0.0500589516306781,
        growth_se=0.00680964062981719,
        deviance=1127.76443044576,
        dispersion=1.04425850949449,
        monthly_factors=(
            1.12949050507, 1.08844385594276, 0.976866520865598, 0.936354955420209, 0.884235464455883, 0.873151015497079,
            0.899244514607133, 0.931194453187141, 0.973739298328342, 1.02998276533128, 1.13222978693979, 1.1450668643548
        ),
        monthly_factor_se=(
            0.0183742600317082, 0.0188750610558348, 0.0172991859805612, 0.0176452492274729, 0.0167296954491271,
            0.016816567957275, 0.0167927482264377, 0.0168806686503316, 0.0175175563502768, 0.01767099727389,
            0.0186245170356834, 0.0185478283197978
        ),
        weekday_factors=(
            1.18624524477333, 1.13742141850643, 1.03196964336236, 0.9875899285912, 0.995424246600835, 0.777354986180337,
            0.883994531985508
        ),
        weekday_factor_se=(
            0.0139322773689456, 0.0136978427117366, 0.0131625584273055, 0.0128942462622701, 0.0129390928795867,
            0.0116362298878156, 0.0123003435413837
        ),
        n_parameters=19,
    ),
    "short_200_days": dict(
        rate_per_day=26.5600584840659,
        rate_se=0.714255939099553,
        annual_growth=0.301909761074095,
        growth_se=0.10922173403597,
        deviance=197.571252118893,
        dispersion=0.995632569842992,
        monthly_factors=(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        monthly_factor_se=(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        weekday_factors=(
            1.15111030744421, 1.08276220341762, 1.07448343924484, 1.06341402452341, 0.958796176832102, 0.825368656955781,
            0.84406519158204
        ),
        weekday_factor_se=(
            0.0346270629200488, 0.0337723675482944, 0.0336579179192449, 0.033061156086527, 0.0316519963649821,
            0.0296744352231487, 0.0299562029297904
        ),
        n_parameters=8,
    ),
    "overdispersed_3y": dict(
        rate_per_day=30.4385055080096,
        rate_se=0.345192949667868,
        annual_growth=0.0478692618071782,
        growth_se=0.006786718399751,
        deviance=7902.70219760813,
        dispersion=7.40330452971607,
        monthly_factors=(
            1.01447457048349, 1.15912333516568, 1.05943301825823, 0.998087812413864, 0.912004690556858, 0.97619007600596,
            0.873804120295436, 0.882271107606071, 0.913511903263663, 1.01460369956708, 1.06437208307813, 1.13212358330553
        ),
        monthly_factor_se=(
            0.0174655507409363, 0.019389623353591, 0.0180058040573737, 0.0181272098874369, 0.0169353104637768,
            0.0176577620025246, 0.0165249156368201, 0.0164331129779212, 0.0169629576661866, 0.0175214720908907,
            0.0180780208485162, 0.0184077004459675
        ),
        weekday_factors=(
            1.22653410102831, 1.0856388308266, 1.03274231478669, 1.02192735530509, 1.01308189263536, 0.801730165691883,
            0.818345339726076
        ),
        weekday_factor_se=(
            0.0141059006939951, 0.0134237422124663, 0.0131406239780834, 0.0130444020417188, 0.0130009632845735,
            0.0117714153361655, 0.0119163500667179
        ),
        n_parameters=19,
    ),
    "weekdays_with_gaps": dict(
        rate_per_day=33.0257640147981,
        rate_se=0.593675110309863,
        annual_growth=0.0558636311333954,
        growth_se=0.0161734722179811,
        deviance=507.534391755188,
        dispersion=1.03704055713376,
        monthly_factors=(
            1.10875451460872, 1.09644531493822, 0.992152166204786, 0.99235297772813, 0.905906558791296, 0.892832204035944,
            0.915474962392667, 0.93148614525406, 0.985902762113996, 1.03046929456965, 1.06135610132866, 1.08686699803387
        ),
        monthly_factor_se=(
            0.0269057997626972, 0.0287212347812768, 0.0252216755521864, 0.0269531221000937, 0.0252800329005683,
            0.0244704227645471, 0.0248432061548368, 0.0242040511646108, 0.0248410422117868, 0.0263120910346083,
            0.025840352406739, 0.0262658537784853
        ),
        weekday_factors=(
            1.08144488001785, 0.982210913960567, 0.977333119555053, 0.901420559133495, 0.89470076729734, 1.08144488001785,
            1.08144488001785
        ),
        weekday_factor_se=(
            0.0106170317984454, 0.016606400965186, 0.0166924710612898, 0.0159199558618087, 0.0159061249756338,
            0.0106170317984454, 0.0106170317984454
        ),
        n_parameters=17,
    ),
    "extract_admissions": dict(
        rate_per_day=73.3266745586654,
        rate_se=0.710945194079733,
        annual_growth=0.0138514274850542,
        growth_se=0.00869509298425978,
        deviance=717.11262216716,
        dispersion=1.0084894190885,
        monthly_factors=(
            1.0507683660232, 1.05213862767165, 1.04459961108633, 0.969296024255413, 0.948202720141816, 0.955592845010776,
            0.969866600062134, 0.942794537677085, 1.00548584064965, 0.998770095102328, 1.05109893716639, 1.01138579515323
        ),
        monthly_factor_se=(
            0.014666385285291, 0.015446594929918, 0.0148866859890002, 0.0146943173636762, 0.0141941143771218,
            0.0142615131642604, 0.0140534981784203, 0.013825472243018, 0.0143523621035448, 0.0141168801030834,
            0.0147064199251443, 0.0142551045506352
        ),
        weekday_factors=(
            1.10729097529912, 1.06386575324534, 0.998900376673774, 1.00297590266945, 1.02204417210983, 0.906463927499753,
            0.898458892502733
        ),
        weekday_factor_se=(
            0.0109835296927762, 0.0107643519445169, 0.0104884555038054, 0.0105481540669843, 0.0106330393397724,
            0.0101089188087561, 0.0100676087434733
        ),
        n_parameters=19,
    ),
}

OLD_DURATIONS = {  # case: (chosen family, KS or KM statistic, p-value, {family: (mean, sd, mean_se, loglik)})
    "exponential": ("exponential", 0.0120515782934346, 0.930025178049172, {
        "exponential": (7.2783280770701, 7.2783280770701, 0.162748363428741, -5969.80235217928),
        "lognormal": (9.24033009653539, 18.7656136116482, 0.356020427681237, -6142.06539650892),
        "gamma": (7.27832805036879, 7.2845605782005, 0.162887725735175, -5969.80046066703),
        "weibull": (7.27819861509142, 7.31297631495533, 0.16352259690308, -5969.76451340506),
    }),
    "exponential_censored": ("exponential", 0.0151734335996653, 0.893523063491336, {
        "exponential": (6.97782938860472, 6.97782938860472, 0.184977070194861, -4187.51602112237),
        "lognormal": (10.8914366374191, 25.990929671515, 0.582182979780695, -4292.43188412153),
        "gamma": (6.96442293234628, 6.92743471919288, 0.187531928809996, -4187.45632019907),
        "weibull": (6.95880209727584, 6.90383886037821, 0.189402771947792, -4187.44322851534),
    }),
    "lognormal": ("lognormal", 0.0170316532474175, 0.601363087994417, {
        "exponential": (9.54591745791583, 9.54591745791583, 0.213453203435018, -6512.22714354892),
        "lognormal": (9.50779733222867, 8.24345323177517, 0.180114051967668, -6202.75432609864),
        "gamma": (9.54591754964061, 6.90989103599013, 0.154509860243733, -6306.94511006803),
        "weibull": (9.63930300780028, 7.35579306250521, 0.165460034726803, -6381.34420229696),
    }),
    "lognormal_censored": ("lognormal", 0.0160055882883322, 0.865897437863196, {
        "exponential": (10.6740852320645, 10.6740852320645, 0.287440879618463, -4644.22221193389),
        "lognormal": (10.0706608247998, 8.96790057735213, 0.237325964821483, -4390.3397772359),
        "gamma": (9.63264129056647, 6.64027152489034, 0.176514545864277, -4436.64217592091),
        "weibull": (9.76483741311637, 6.80951098820255, 0.180450826151929, -4487.43292789191),
    }),
    "gamma": ("gamma", 0.0232957385465496, 0.224341517245491, {
        "exponential": (9.87654159827369, 9.87654159827369, 0.220846183963444, -6580.32481964137),
        "lognormal": (10.0506009533071, 7.01298574490497, 0.154948419163086, -6131.83639995892),
        "gamma": (9.87654155084771, 5.77938923879671, 0.129231071489557, -6098.02017936728),
        "weibull": (9.92064365622799, 5.79385622803458, 0.130040124614403, -6145.455504607),
    }),
    "gamma_censored": ("gamma", 0.0170802884910077, 0.810329067041479, {
        "exponential": (11.5487831255027, 11.5487831255027, 0.311334327887008, -4742.4941822616),
        "lognormal": (10.8613553626146, 8.69930011444433, 0.231030439265808, -4458.03489094155),
        "gamma": (10.1920817867554, 6.22713926119898, 0.164669350480565, -4410.07942893201),
        "weibull": (10.1746478018912, 5.92851353666191, 0.154995262288191, -4430.04857036243),
    }),
    "weibull": ("weibull", 0.0112397429243345, 0.959759320538314, {
        "exponential": (8.92879078753015, 8.92879078753015, 0.199653831577913, -6378.56195117725),
        "lognormal": (9.42630633518139, 8.0997380023779, 0.177079190804923, -6179.43428669325),
        "gamma": (8.928790804862, 5.75955300153805, 0.128787519498143, -6032.31046475361),
        "weibull": (8.93158659519061, 5.38445669121793, 0.120299837469739, -6014.18622303609),
    }),
    "weibull_censored": ("weibull", 0.0233718815973349, 0.42608661103192, {
        "exponential": (9.80474813929826, 9.80474813929826, 0.26279483452673, -4569.75054711452),
        "lognormal": (9.63921473943324, 8.7248952914452, 0.229729503462709, -4384.10321871483),
        "gamma": (8.79055317093279, 5.70438546657683, 0.150535039433022, -4297.56217304559),
        "weibull": (8.72678031501851, 5.27210041952627, 0.137408649155056, -4296.71249359049),
    }),
    "extract_p2_stay": ("lognormal", 0.0237757752887499, 0.993253663050808, {
        "exponential": (12.7042814709936, 12.7042814709936, 0.722721321840461, -1094.45916964858),
        "lognormal": (12.6840303084472, 10.624221250418, 0.591879199727391, -1043.65753919654),
        "gamma": (12.7042813381378, 8.93683634410165, 0.508398851033332, -1057.70352951966),
        "weibull": (12.8277660029075, 9.52692634739827, 0.545321950653695, -1070.11055970708),
    }),
    "extract_bed_censored": ("gamma", 0.0392365155006675, 0.844607639038502, {
        "exponential": (70.1325436591655, 70.1325436591655, 4.55559825308158, -1244.3417030071),
        "lognormal": (54.1778594822182, 27.1516147661394, 1.72542328030927, -1109.73683654119),
        "gamma": (52.7910235082441, 22.8498126796346, 1.42163308257057, -1108.92545491911),
        "weibull": (52.5044233469027, 21.7683042810587, 1.32141319352197, -1118.28839504671),
    }),
}

OLD_WILSON = [  # (k, n, z or None for the default 95%, lower, upper)
    (0, 1, None, 0, 0.793450685622763),
    (1, 1, None, 0.206549314377237, 1),
    (0, 20, None, 0, 0.161125158052819),
    (1, 29, None, 0.00611321429276265, 0.171755218793203),
    (15, 148, None, 0.0623863995307363, 0.160487241723308),
    (81, 263, None, 0.255288519878274, 0.3662095769828),
    (50, 100, None, 0.403831530365996, 0.596168469634004),
    (3, 7, None, 0.15821985525147, 0.749541635472343),
    (999, 1000, None, 0.994357441402042, 0.999823453629374),
    (1000, 1000, None, 0.996173241514445, 1),
    (5, 40, 1.0, 0.0816931386155938, 0.186599544311236),
    (5, 40, 2.5758293035489004, 0.0426777809773199, 0.314027129153368),
    (0, 0, None, 0, 1),
]

# _km_distance (sup |1 − KM − F| at and just before the uncensored durations) against a fixed
# CDF, from the hand-written Kaplan–Meier product. "whole_days" rounds the bed durations up to
# whole days: 90 distinct values for 426 durations, so events and censorings tie.
OLD_KM = {
    "extract_bed_censored": 0.039622518365657444,
    "extract_bed_whole_days": 0.03388214497888542,
    "lognormal_censored": 0.017247822622342757,
}
KM_CASES = {
    "extract_bed_censored": (lambda: extract_durations(BED_TEXT), stats.gamma(a=5.34, scale=9.89)),
    "extract_bed_whole_days": (
        lambda: (np.ceil(extract_durations(BED_TEXT)[0]), extract_durations(BED_TEXT)[1]),
        stats.gamma(a=5.34, scale=9.89),
    ),
    "lognormal_censored": (lambda: simulated_durations("lognormal", True), stats.lognorm(s=0.76, scale=math.exp(2.02))),
}


# --------------------------------------------------------------------------------------------
# Arrivals: statsmodels GLM against the hand-written IRLS
# --------------------------------------------------------------------------------------------

# Both fits run IRLS to the same maximum (old stop: deviance change < 1e-10, statsmodels: < 1e-8);
# IRLS converges quadratically, so the coefficients agree to ~1e-13 (measured). 1e-9 leaves room
# for BLAS rounding elsewhere and is 10^7 below the relative SEs (~1e-2): another model fails.
ESTIMATE_RTOL = 1e-9
# The covariance is (XᵀWX)⁻¹ with W from the final (old) or last-but-one (statsmodels) IRLS
# iterate, and statsmodels stops at a deviance change of 1e-8 (old: 1e-10): measured up to 1.6e-7
# apart. A dispersion-scaled or sandwich SE differs by > 1e-2 on these data.
GLM_SE_RTOL = 1e-6


@pytest.mark.parametrize("case", list(ARRIVAL_CASES))
def test_arrivals_match_hand_written_glm(case):
    counts, ref = ARRIVAL_CASES[case]()
    fit = fit_arrivals(counts, ref.date())
    old = OLD_ARRIVALS[case]
    assert fit.n_parameters == old["n_parameters"]
    for name in ("rate_per_day", "annual_growth", "deviance", "dispersion", "monthly_factors", "weekday_factors"):
        np.testing.assert_allclose(getattr(fit, name), old[name], rtol=ESTIMATE_RTOL, atol=0, err_msg=name)
    for name in ("rate_se", "growth_se", "monthly_factor_se", "weekday_factor_se"):
        np.testing.assert_allclose(getattr(fit, name), old[name], rtol=GLM_SE_RTOL, atol=0, err_msg=name)


# --------------------------------------------------------------------------------------------
# Durations: scipy's censored fit + statsmodels' Hessian against the hand-written MLE
# --------------------------------------------------------------------------------------------

# Both are numerical optima. A search stopped when the log-likelihood changes by δ pins the
# log-parameters only to about sqrt(2δ / information): ~1e-6 with the old stop (δ = 1e-10) and
# the information ≈ the number of events (≥ 237 here). Measured: means and sds within 5e-8.
DURATION_RTOL = 1e-6
# Both SEs come from central finite-difference Hessians (steps ~1e-4: truncation error ~1e-8),
# evaluated at optima up to 1e-6 apart. Measured: 2.4e-7. An SE from another method (expected
# instead of observed information, or no delta method) differs by > 1e-3.
MEAN_SE_RTOL = 1e-5
# At the optimum the log-likelihood is flat: a 1e-6 parameter error moves it by ~n·1e-12.
LOGLIK_ATOL = 1e-6
# D is a sup of |empirical − fitted CDF|: the fitted parameters (1e-6 apart at most) move it by
# ≤ 1e-6. Its p-value changes by about 4·n·D·p·ΔD (the KS tail, 2·exp(−2nD²)): ≤ 2e-4 relative.
KS_ATOL = 1e-6
KS_P_RTOL = 1e-3


@pytest.mark.parametrize("case", list(DURATION_CASES))
def test_durations_match_hand_written_mle(case):
    durations, censored = DURATION_CASES[case]()
    fit = fit_duration(durations, censored)
    family, ks, pvalue, candidates = OLD_DURATIONS[case]
    assert fit.family == family
    assert set(fit.candidates) == set(candidates)
    for name, (mean, sd, mean_se, loglik) in candidates.items():
        got = fit.candidates[name]
        assert got["mean"] == pytest.approx(mean, rel=DURATION_RTOL), name
        assert got["sd"] == pytest.approx(sd, rel=DURATION_RTOL), name
        assert got["mean_se"] == pytest.approx(mean_se, rel=MEAN_SE_RTOL), name
        assert got["loglik"] == pytest.approx(loglik, abs=LOGLIK_ATOL), name
    assert fit.ks_statistic == pytest.approx(ks, abs=KS_ATOL)
    assert fit.ks_pvalue == pytest.approx(pvalue, rel=KS_P_RTOL)


# --------------------------------------------------------------------------------------------
# Kaplan–Meier (scipy.stats.ecdf)
# --------------------------------------------------------------------------------------------


def test_km_distance_hand_worked():
    # Durations 1, 2, 2+, 3, 4+, 5 ("+" censored; an event and a censoring tie at 2, and the
    # censored 2 is still at risk at 2). At risk / KM survival: t=1: 6, 5/6; t=2: 5, 5/6·4/5 = 2/3;
    # t=3: 3, 2/3·2/3 = 4/9; t=5: 1, 0. So 1 − KM = 1/6, 1/3, 5/9, 1 at 1, 2, 3, 5.
    # Against F(t) = t/6: |before − F|, |after − F| = (1/6, 0) at 1, (1/6, 0) at 2, (1/6, 1/18)
    # at 3, (5/18, 1/6) at 5: D = 5/18. (Taking the censored 2 out of the risk set first would
    # give 1 − KM = 3/8 at 2, 7/12 at 3 and D = 1/4.)
    t = np.array([1.0, 2, 2, 3, 4, 5])
    event = np.array([True, True, False, True, False, True])
    assert _km_distance(t, event, lambda x: np.asarray(x) / 6) == pytest.approx(5 / 18, abs=1e-15)
    # The same points in another order give the same curve.
    order = np.array([5, 2, 0, 4, 1, 3])
    assert _km_distance(t[order], event[order], lambda x: np.asarray(x) / 6) == pytest.approx(5 / 18, abs=1e-15)
    # Against F(t) = 1 − exp(−t/3), F = 0.28347, 0.48658, 0.63212, 0.81112 at 1, 2, 3, 5:
    # |before − F|, |after − F| = (0.28347, 0.11681), (0.31992, 0.15325), (0.29879, 0.07657),
    # (0.25557, 0.18888): the largest gap is just before t = 2, |1/6 − F(2)|.
    expected = abs(1 / 6 - (1 - math.exp(-2 / 3)))
    assert _km_distance(t, event, lambda x: 1 - np.exp(-np.asarray(x) / 3)) == pytest.approx(expected, abs=1e-15)


# The same products of (1 − deaths / at risk) in another order: rounding only (measured 4e-16).
KM_ATOL = 1e-12


@pytest.mark.parametrize("case", list(KM_CASES))
def test_km_distance_matches_hand_written(case):
    make, dist = KM_CASES[case]
    durations, censored = make()
    assert _km_distance(durations, ~censored, dist.cdf) == pytest.approx(OLD_KM[case], abs=KM_ATOL)


# --------------------------------------------------------------------------------------------
# Wilson interval (scipy.stats.binomtest(...).proportion_ci)
# --------------------------------------------------------------------------------------------

# The same closed form (Newcombe 1998) rearranged, and z passed as a confidence level and back
# (z = ndtri(1 − sf(z))): rounding only, measured ≤ 2e-16.
WILSON_ATOL = 1e-12


@pytest.mark.parametrize("k,n,z,lower,upper", OLD_WILSON)
def test_wilson_matches_hand_written(k, n, z, lower, upper):
    got = wilson_interval(k, n) if z is None else wilson_interval(k, n, z)
    assert got == pytest.approx((lower, upper), abs=WILSON_ATOL)


def test_wilson_published_and_hand_worked():
    # Newcombe (1998), Stat Med 17:857, Table I, method 3 (Wilson, no continuity correction),
    # published to 4 decimals, so within half a unit of the 4th: 81/263 -> 0.2553-0.3662;
    # 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611; 1/29 -> 0.0061-0.1718.
    for k, n, lo, hi in [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]:
        assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=5e-5)
    # By hand: with k = 0 the interval is [0, z²/(n + z²)]; with k = n, [n/(n + z²), 1].
    z = 2.0
    assert wilson_interval(0, 12, z) == pytest.approx((0.0, 4 / 16), abs=1e-15)
    assert wilson_interval(12, 12, z) == pytest.approx((12 / 16, 1.0), abs=1e-15)
    # k = n/2: centred on 1/2 with half-width z·sqrt(n/4 + z²/4) / (n + z²) = 2·sqrt(4)/16 = 0.25 for n = 12, z = 2.
    assert wilson_interval(6, 12, z) == pytest.approx((0.25, 0.75), abs=1e-15)
    assert wilson_interval(0, 0) == (0.0, 1.0)  # nothing observed: the whole range


def test_shares_use_the_wilson_interval():
    fit = fit_shares({"a": 81, "b": 182}, ["a", "b"])
    (lower, upper) = next((lo, hi) for k, n, z, lo, hi in OLD_WILSON if (k, n, z) == (81, 263, None))
    assert (fit.lower["a"], fit.upper["a"]) == pytest.approx((lower, upper), abs=WILSON_ATOL)
