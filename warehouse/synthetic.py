"""Seeded, vectorised generator of the seven Home Credit tables (same names, columns and types as Kaggle).

Marginals, missingness, quirks and correlations follow ``home_credit.md`` §4–§9. Two hidden client traits drive
everything that predicts default: ``risk`` (seen through EXT_SOURCE_*) and ``behaviour`` (seen through late
payments, overdue bureau credits and refused applications in the side tables). TARGET is drawn from a logistic
link on the *observable* consequences of those traits plus demographics, with enough irreducible noise that a
gradient-boosted model lands in the real AUC range (≈0.76–0.79) instead of memorising the generator.

Clients must survive a manager's eye, so draws are jointly constrained: pensioners from 35 (mostly from their late
fifties), students young, maternity leave for women under 46, employment at most age − 18, no widow under 35,
children no earlier than 18, household = children + 1 + partner, an annuity under 60 % of income, a revolving
line capped at 900,000 and at four times income (twice under 25). The loan's structure drives default the way it
does in the real data (``loan_structure_logit``: affordability, a non-monotonic term, the share financed above the
goods price, income), with the lender's own underwriting (larger loans to better risks) keeping the univariate
AUCs as weak as the real ones (0.554, 0.570, 0.512, 0.481; tested), so that "what it would take" has levers.

To keep the default build fast the monthly tables (bureau_balance, POS_CASH_balance, installments_payments,
credit_card_balance) keep at most ``MONTHS_PER_LOAN`` rows per loan instead of the full history.
Side tables are generated in bulk with ``np.repeat`` over per-client counts: no Python loop per client.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
from scipy import special, stats

from warehouse import schema

MONTHS_PER_LOAN = 6
TEST_SHARE_OF_TRAIN = 48_744 / 307_511  # Kaggle: 48,744 test rows next to 307,511 train rows (13.7 % of all)
DEFAULT_RATE = 0.0807
FIRST_ID = 100_001
MAX_ANNUITY_SHARE = 0.6  # of annual income: no lender grants an annuity above it
MAX_REVOLVING = 900_000  # a revolving line is a card or overdraft, not a mortgage

_POLARS_TYPES = {schema.INT: pl.Int64, schema.FLOAT: pl.Float64, schema.TEXT: pl.String}


class _Draw:
    """Small helpers around one seeded generator, so every column is one readable line."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def codes(self, probs: list[float] | np.ndarray, n: int) -> np.ndarray:
        cumulative = np.cumsum(np.asarray(probs, dtype=float))
        return np.searchsorted(cumulative / cumulative[-1], self.rng.random(n), side="right")

    def pick(self, levels: dict[str, float], n: int, missing: float | np.ndarray = 0.0) -> pl.Series:
        """Categorical column from ``{level: weight}``; ``missing`` is a rate or a boolean mask of NULLs."""
        codes = self.codes(list(levels.values()), n)
        return self.levels(list(levels), codes, self.mask(missing, n))

    def levels(self, names: list[str], codes: np.ndarray, null_mask: np.ndarray | None = None) -> pl.Series:
        if null_mask is not None:
            codes = np.where(null_mask, len(names), codes)
        return pl.Series([*names, None], dtype=pl.String).gather(codes)

    def mask(self, missing: float | np.ndarray, n: int) -> np.ndarray:
        if isinstance(missing, np.ndarray):
            return missing
        return self.rng.random(n) < missing

    def flag(self, rate: float | np.ndarray, n: int) -> np.ndarray:
        return (self.rng.random(n) < rate).astype(np.int64)

    def blank(self, values: np.ndarray, missing: float | np.ndarray) -> np.ndarray:
        """Float copy of ``values`` with NaN (NULL once loaded) where missing."""
        out = values.astype(np.float64, copy=True)
        out[self.mask(missing, len(out))] = np.nan
        return out

    def lognormal(self, median: float, sigma: float, n: int) -> np.ndarray:
        return median * np.exp(sigma * self.rng.standard_normal(n))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


def _snap(values: np.ndarray, step: float) -> np.ndarray:
    return np.maximum(np.round(values / step), 1) * step


def _ranks_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., count-1 for each group laid out by ``np.repeat(ids, counts)``."""
    starts = np.cumsum(counts) - counts
    return np.arange(counts.sum()) - np.repeat(starts, counts)


def _frame(table: str, columns: dict[str, object]) -> pl.DataFrame:
    """Order and type the columns exactly like the Kaggle schema; NaN becomes NULL."""
    series = []
    for name, dtype in schema.TABLES[table].items():
        values = columns[name]
        if isinstance(values, pl.Series):
            series.append(values.alias(name).cast(_POLARS_TYPES[dtype]))
        else:
            array = np.asarray(values)
            series.append(
                pl.Series(name, array, nan_to_null=array.dtype.kind == "f").cast(_POLARS_TYPES[dtype])
            )
    return pl.DataFrame(series)


class _Clients:
    """Client-level draws shared by the application table and the side tables."""

    def __init__(self, draw: _Draw, n_train: int) -> None:
        rng = draw.rng
        n_test = round(n_train * TEST_SHARE_OF_TRAIN)
        self.n = n = n_train + n_test
        self.ids = FIRST_ID + np.arange(n, dtype=np.int64)
        self.is_test = np.zeros(n, dtype=bool)
        self.is_test[rng.choice(n, n_test, replace=False)] = True
        self.risk = rng.standard_normal(n)
        self.behaviour = 0.6 * self.risk + 0.8 * rng.standard_normal(n)
        self.age = 20.5 + 48.6 * rng.beta(1.35, 1.5, n)


# Kaggle levels with their training counts (home_credit.md §5) or shares.
_INCOME_TYPES = [
    "Working",
    "Commercial associate",
    "Pensioner",
    "State servant",
    "Unemployed",
    "Student",
    "Businessman",
    "Maternity leave",
]
_OCCUPATIONS = {
    "Laborers": 55_186,
    "Sales staff": 32_102,
    "Core staff": 27_570,
    "Managers": 21_371,
    "Drivers": 18_603,
    "High skill tech staff": 11_380,
    "Accountants": 9_813,
    "Medicine staff": 8_537,
    "Security staff": 6_721,
    "Cooking staff": 5_946,
    "Cleaning staff": 4_653,
    "Private service staff": 2_652,
    "Low-skill Laborers": 2_093,
    "Waiters/barmen staff": 1_348,
    "Secretaries": 1_305,
    "Realty agents": 751,
    "HR staff": 563,
    "IT staff": 526,
}
_ORGANIZATIONS = {
    "Business Entity Type 3": 67_992,
    "Self-employed": 38_412,
    "Other": 16_683,
    "Medicine": 11_193,
    "Business Entity Type 2": 10_553,
    "Government": 10_404,
    "School": 8_893,
    "Trade: type 7": 7_831,
    "Kindergarten": 6_880,
    "Construction": 6_721,
    "Business Entity Type 1": 5_984,
    "Transport: type 4": 5_398,
    "Trade: type 3": 3_492,
    "Industry: type 9": 3_368,
    "Industry: type 3": 3_278,
    "Security": 3_247,
    "Housing": 2_958,
    "Industry: type 11": 2_704,
    "Military": 2_634,
    "Bank": 2_507,
    "Agriculture": 2_454,
    "Police": 2_341,
    "Transport: type 2": 2_204,
    "Postal": 2_157,
    "Security Ministries": 1_974,
    "Trade: type 2": 1_900,
    "Restaurant": 1_811,
    "Services": 1_575,
    "University": 1_327,
    "Industry: type 7": 1_307,
    "Transport: type 3": 1_187,
    "Industry: type 1": 1_039,
    "Hotel": 966,
    "Electricity": 950,
    "Industry: type 4": 877,
    "Trade: type 6": 631,
    "Industry: type 5": 599,
    "Insurance": 597,
    "Telecom": 577,
    "Emergency": 560,
    "Industry: type 2": 458,
    "Advertising": 429,
    "Realtor": 396,
    "Culture": 379,
    "Industry: type 12": 369,
    "Trade: type 1": 348,
    "Mobile": 317,
    "Legal Services": 305,
    "Cleaning": 260,
    "Transport: type 1": 201,
    "Industry: type 6": 112,
    "Religion": 85,
    "Industry: type 13": 67,
    "Trade: type 4": 64,
    "Trade: type 5": 49,
    "Industry: type 10": 109,
    "Industry: type 8": 24,
}


def _application(draw: _Draw, clients: _Clients) -> dict[str, object]:
    """All 121 non-target application columns, plus the hidden terms TARGET needs (keys starting with '_').

    The steps run in a fixed order because they share one random stream: reordering them changes every value
    drawn after the move for the same seed. Each step reads the hidden terms of earlier steps from ``col``.
    """
    col: dict[str, object] = {"SK_ID_CURR": clients.ids}
    _household(draw, clients, col)
    _amounts(draw, clients, col)
    _region_and_dates(draw, clients, col)
    _contacts_and_work(draw, clients, col)
    _external_scores(draw, clients, col)
    col.update(_building(draw, clients.n, col["_housing"]))
    _circle_documents_and_enquiries(draw, clients, col)
    return col


def _household(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """Contract type, gender, income type (pensioners by age), education, family, children and housing."""
    rng, n, age = draw.rng, clients.n, clients.age
    revolving = rng.random(n) < np.where(clients.is_test, 0.009, 0.095)
    col["NAME_CONTRACT_TYPE"] = draw.levels(["Cash loans", "Revolving loans"], revolving.astype(int))
    gender = draw.codes([0.658, 0.342], n)
    if n >= 1000:  # the real "XNA" gender: a handful of train rows, never in test
        n_xna = max(1, round(n * 4 / 356_255))
        gender[rng.choice(np.flatnonzero(~clients.is_test), n_xna, replace=False)] = 2
    male = gender == 1
    col["CODE_GENDER"] = draw.levels(["F", "M", "XNA"], gender)

    # Pensioners from their late fifties, with a few disability pensions from 35; nobody younger.
    pensioner = rng.random(n) < np.where(age >= 35, 0.010 + 0.88 * _sigmoid((age - 56.8) / 2.2), 0.0)
    income_type = np.where(
        pensioner, 2, draw.codes([0.630, 0.284, 0, 0.086, 1.0e-4, 0.7e-4, 0.4e-4, 0.2e-4], n)
    )
    # Students are young; maternity leave is for women of child-bearing age (else: working).
    income_type = np.where((income_type == 5) & (age > 32), 0, income_type)
    income_type = np.where((income_type == 7) & ((age > 45) | male), 0, income_type)
    col["NAME_INCOME_TYPE"] = draw.levels(_INCOME_TYPES, income_type)
    anomaly = (income_type == 2) | (income_type == 4)

    education = draw.codes([0.710, 0.243, 0.0334, 0.0124, 0.00053], n)
    col["NAME_EDUCATION_TYPE"] = draw.levels(
        [
            "Secondary / secondary special",
            "Higher education",
            "Incomplete higher",
            "Lower secondary",
            "Academic degree",
        ],
        education,
    )
    widow_boost = np.clip((age - 50) / 20, 0, 1) * 0.15
    family = draw.codes([0.639, 0.148, 0.097, 0.064, 0.052, 6.5e-6], n)
    family = np.where(rng.random(n) < widow_boost, 4, family)
    # Few widows before 35 and fewer marriages before 25: those become single.
    family = np.where(
        ((family == 4) & (age < 35)) | ((family == 0) & (age < 25) & (rng.random(n) < 0.5)), 1, family
    )
    col["NAME_FAMILY_STATUS"] = draw.levels(
        ["Married", "Single / not married", "Civil marriage", "Separated", "Widow", "Unknown"], family
    )
    couple = (family == 0) | (family == 2)
    children = draw.codes([0.70, 0.199, 0.087, 0.012, 0.0014, 0.0003], n)
    children = np.where((age > 55) & (rng.random(n) < 0.8), 0, children)
    children = np.minimum(children, np.floor((age - 17) / 2.5)).astype(
        np.int64
    )  # a child at 18 at the earliest
    if n >= 10_000:  # the real 19-children outlier, on a client old enough to have them
        children[rng.choice(np.flatnonzero(age > 45))] = 19
    col["CNT_CHILDREN"] = children
    col["CNT_FAM_MEMBERS"] = draw.blank(children + 1 + couple, 2 / 307_511)

    housing = draw.codes([0.887, 0.048, 0.036, 0.016, 0.0085, 0.0036], n)
    housing = np.where((age < 30) & (rng.random(n) < 0.15), 1, housing)
    col["NAME_HOUSING_TYPE"] = draw.levels(
        [
            "House / apartment",
            "With parents",
            "Municipal apartment",
            "Rented apartment",
            "Office apartment",
            "Co-op apartment",
        ],
        housing,
    )
    col.update(_revolving=revolving, _male=male, _anomaly=anomaly, _education=education, _housing=housing)


def _amounts(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """Income (round numbers, one 117 M outlier), then the loan as a lender sizes it: goods price, credit, annuity.

    Cash credit is sized on income, a little larger for better risks (the lender's own underwriting, which is
    why affordability alone predicts default so weakly in the real data); the term (annuity / credit) leaves the
    annuity under ``MAX_ANNUITY_SHARE`` of income, stretching the term first and cutting the credit last; the
    credit exceeds the goods price by the insurance and fees financed on top (more of it for riskier clients).
    A revolving line is a multiple of income, capped (``MAX_REVOLVING``), smaller for the youngest clients.
    """
    rng, n, age, risk = draw.rng, clients.n, clients.age, clients.risk
    revolving, male, anomaly, education = col["_revolving"], col["_male"], col["_anomaly"], col["_education"]
    # Income: lognormal, higher for graduates, men and steadier earners, lower for pensioners and first jobs.
    log_income = (
        np.log(147_150)
        + 0.42 * rng.standard_normal(n)
        + 0.18 * (education == 1)
        + 0.12 * male
        - 0.25 * anomaly
        - 0.06 * risk
        - 0.25 * np.clip((28 - age) / 8, 0, 1)
    )
    income = np.maximum(np.exp(log_income), 25_650)
    income = np.where(rng.random(n) < 0.65, _snap(income, 22_500), _snap(income, 4_500))
    if n >= 10_000:
        income[rng.choice(np.flatnonzero(age > 35))] = 117_000_000.0
    col["AMT_INCOME_TOTAL"] = income

    credit_to_income = draw.lognormal(3.4, 0.5, n) * np.exp(-0.45 * risk)
    goods = np.clip(np.minimum(income, 1_000_000) * credit_to_income / 1.08, 40_500, 4_050_000)
    goods = np.where(rng.random(n) < 0.45, _snap(goods, 45_000), _snap(goods, 4_500))
    markup = np.where(rng.random(n) < 0.36, 1.0, np.clip(rng.uniform(1.02, 1.42, n) + 0.05 * risk, 1.01, 1.6))
    payment_rate = np.clip(draw.lognormal(0.05, 0.36, n), 0.022, 0.125)
    # Affordability: a longer term first, then a cheaper purchase, until the annuity fits the income.
    budget = MAX_ANNUITY_SHARE * np.minimum(income, 1_000_000)
    payment_rate = np.clip(np.minimum(payment_rate, budget / (goods * markup)), 0.022, None)
    goods = np.maximum(np.minimum(goods, _snap(budget / (payment_rate * markup), 4_500) - 4_500), 40_500)
    odd_cents = 0.5 * ((markup > 1) & (rng.random(n) < 0.3))
    credit = np.clip(np.round(goods * markup / 10) * 10 + odd_cents, 45_000, 4_050_000)
    revolving_cap = np.minimum(MAX_REVOLVING, np.where(age < 25, 2, 4) * income)
    line = np.clip(income * draw.lognormal(1.4, 0.5, n), 45_000, revolving_cap)
    credit = np.where(revolving, np.maximum(np.floor(line / 22_500) * 22_500, 45_000), credit)
    payment_rate = np.where(revolving, 0.05, payment_rate)
    col["AMT_CREDIT"] = credit
    col["AMT_GOODS_PRICE"] = draw.blank(
        np.where(revolving, credit, goods), revolving & (rng.random(n) < 0.01)
    )
    annuity = np.round(credit * payment_rate * 2) / 2
    col["AMT_ANNUITY"] = draw.blank(annuity, 12 / 307_511)

    col["NAME_TYPE_SUITE"] = draw.pick(
        {
            "Unaccompanied": 248_526,
            "Family": 40_149,
            "Spouse, partner": 11_370,
            "Children": 3_267,
            "Other_B": 1_770,
            "Other_A": 866,
            "Group of people": 271,
        },
        n,
        missing=0.0042,
    )
    col.update(
        _payment_rate=annuity / credit,
        _markup=np.where(revolving, 1.0, credit / goods),
        _annuity_share=annuity / income,
        _income=income,
    )


def _region_and_dates(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """Region density, population and ratings, then the DAYS_* offsets (employment capped by age)."""
    rng, n, age, anomaly = draw.rng, clients.n, clients.age, col["_anomaly"]
    density = draw.codes(np.ones(3), n)  # 0 dense city, 1 town, 2 rural: drives rating and population
    population = np.where(density == 0, draw.lognormal(0.035, 0.3, n), draw.lognormal(0.016, 0.45, n))
    col["REGION_POPULATION_RELATIVE"] = np.round(np.clip(population, 0.00029, 0.072508), 6)
    rating = (
        np.where(density == 0, draw.codes([0.30, 0.66, 0.04], n), draw.codes([0.005, 0.775, 0.22], n)) + 1
    )
    col["REGION_RATING_CLIENT"] = rating
    city_rating = np.where(rng.random(n) < 0.9, rating, draw.codes([0.11, 0.75, 0.14], n) + 1)
    col["REGION_RATING_CLIENT_W_CITY"] = city_rating

    days_birth = -np.round(age * 365.25).astype(np.int64)
    col["DAYS_BIRTH"] = days_birth
    years_employed = np.minimum(draw.lognormal(4.3, 0.95, n), np.maximum(age - 18.5, 0.2))
    days_employed = -np.maximum(np.round(years_employed * 365.25), 1).astype(np.int64)
    col["DAYS_EMPLOYED"] = np.where(anomaly, schema.DAYS_ANOMALY, days_employed)
    col["DAYS_REGISTRATION"] = -np.round(np.minimum(rng.gamma(2.0, 2_500, n), -days_birth - 3000).clip(0))
    col["DAYS_ID_PUBLISH"] = -np.minimum(rng.gamma(3.7, 810, n), 7197).astype(np.int64)
    col.update(_age=age, _years_employed=years_employed, _rating=city_rating)


def _contacts_and_work(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """Car and realty, contact flags, occupation, application time, address mismatches and employer sector."""
    rng, n, male, anomaly = draw.rng, clients.n, col["_male"], col["_anomaly"]
    own_car = (rng.random(n) < np.where(male, 0.55, 0.23)).astype(int)
    col["FLAG_OWN_CAR"] = draw.levels(["N", "Y"], own_car)
    col["OWN_CAR_AGE"] = draw.blank(np.minimum(np.round(draw.lognormal(9.0, 0.75, n)), 91), own_car == 0)
    col["FLAG_OWN_REALTY"] = draw.levels(["N", "Y"], draw.flag(0.694, n))

    col["FLAG_MOBIL"] = 1 - draw.flag(1 / 307_511, n)
    col["FLAG_EMP_PHONE"] = (~anomaly).astype(np.int64)
    for name, rate in {
        "FLAG_WORK_PHONE": 0.199,
        "FLAG_CONT_MOBILE": 0.998,
        "FLAG_PHONE": 0.281,
        "FLAG_EMAIL": 0.057,
    }.items():
        col[name] = draw.flag(rate, n)
    col["FLAG_WORK_PHONE"] = np.where(anomaly, 0, col["FLAG_WORK_PHONE"])

    occupation = draw.codes(list(_OCCUPATIONS.values()), n)
    col["OCCUPATION_TYPE"] = draw.levels(list(_OCCUPATIONS), occupation, anomaly | (rng.random(n) < 0.165))

    col["WEEKDAY_APPR_PROCESS_START"] = draw.pick(
        {
            "TUE": 53_901,
            "WED": 51_934,
            "MON": 50_714,
            "THU": 50_591,
            "FRI": 50_338,
            "SAT": 33_852,
            "SUN": 16_181,
        },
        n,
    )
    col["HOUR_APPR_PROCESS_START"] = np.clip(np.round(12 + 3.27 * rng.standard_normal(n)), 0, 23).astype(int)
    for name, rate in {
        "REG_REGION_NOT_LIVE_REGION": 0.015,
        "REG_REGION_NOT_WORK_REGION": 0.051,
        "LIVE_REGION_NOT_WORK_REGION": 0.041,
        "REG_CITY_NOT_LIVE_CITY": 0.078,
        "REG_CITY_NOT_WORK_CITY": 0.230,
        "LIVE_CITY_NOT_WORK_CITY": 0.180,
    }.items():
        col[name] = np.where(anomaly & name.endswith("WORK_REGION"), 0, draw.flag(rate, n))

    organization = draw.codes(list(_ORGANIZATIONS.values()), n)
    col["ORGANIZATION_TYPE"] = draw.levels(
        [*_ORGANIZATIONS, "XNA"], np.where(anomaly, len(_ORGANIZATIONS), organization)
    )
    col["_own_car"] = own_car


def _external_scores(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """EXT_SOURCE_1..3 on their real beta-like shapes; their latent z-scores are hidden terms of TARGET.

    The missing mask is drawn before the (slow) beta quantile, which then runs on the known values only.
    """
    rng, n, age = draw.rng, clients.n, clients.age
    # External scores: noisy views of the hidden risk; EXT_SOURCE_1 also rises with age (r ≈ -0.6 with DAYS_BIRTH).
    age_z = (age - 43.5) / 11.9
    risk = clients.risk
    latent = {
        1: -0.30 * risk + 0.62 * age_z + 0.72 * rng.standard_normal(n),
        2: -0.35 * risk + 0.94 * rng.standard_normal(n),
        3: -0.35 * risk + 0.10 * age_z + 0.93 * rng.standard_normal(n),
    }
    shapes = {1: (0.963, 2.3, 2.1), 2: (0.855, 2.6, 1.7), 3: (0.896, 2.4, 1.8)}
    missing = {1: 0.564, 2: 0.0021, 3: 0.198}
    for k, z in latent.items():
        z = z / z.std()
        scale, a, b = shapes[k]
        known = ~draw.mask(missing[k], n)
        value = np.full(n, np.nan)
        value[known] = np.clip(scale * stats.beta.ppf(special.ndtr(z[known]), a, b), 1e-6, None)
        col[f"EXT_SOURCE_{k}"] = value
        col[f"_ext_z{k}"] = z


def _circle_documents_and_enquiries(draw: _Draw, clients: _Clients, col: dict[str, object]) -> None:
    """Social-circle defaults (driven by behaviour), last phone change, document flags, credit-bureau enquiries."""
    rng, n = draw.rng, clients.n
    obs30 = rng.negative_binomial(0.55, 0.55 / (0.55 + 1.42), n).astype(float)
    social_missing = rng.random(n) < 0.0033
    def30 = rng.binomial(obs30.astype(int), np.clip(0.09 + 0.03 * clients.behaviour, 0.01, 0.5))
    col["OBS_30_CNT_SOCIAL_CIRCLE"] = draw.blank(obs30, social_missing)
    col["DEF_30_CNT_SOCIAL_CIRCLE"] = draw.blank(def30, social_missing)
    col["OBS_60_CNT_SOCIAL_CIRCLE"] = draw.blank(
        np.maximum(obs30 - (rng.random(n) < 0.02), 0), social_missing
    )
    col["DEF_60_CNT_SOCIAL_CIRCLE"] = draw.blank(rng.binomial(def30, 0.7), social_missing)
    col["DAYS_LAST_PHONE_CHANGE"] = draw.blank(
        -np.minimum(np.round(rng.exponential(963, n)), 4292), 1 / 307_511
    )

    document_rates = {
        3: 0.710,
        6: 0.088,
        8: 0.081,
        5: 0.015,
        16: 0.0099,
        18: 0.0081,
        9: 0.0039,
        11: 0.0039,
        13: 0.0035,
        14: 0.0029,
        15: 0.0012,
        2: 0.000042,
        10: 0.000023,
        12: 0.000007,
    }
    for number in schema.DOCUMENT_NUMBERS:
        col[f"FLAG_DOCUMENT_{number}"] = draw.flag(document_rates.get(number, 0.0005), n)

    request_missing = rng.random(n) < 0.135
    request_means = {"HOUR": 0.0064, "DAY": 0.0070, "WEEK": 0.0344, "MON": 0.267, "QRT": 0.265, "YEAR": 1.9}
    for period, mean in request_means.items():
        col[f"AMT_REQ_CREDIT_BUREAU_{period}"] = draw.blank(
            rng.poisson(mean, n).astype(float), request_missing
        )


_BUILDING_MISSING = {
    "APARTMENTS": 0.507,
    "BASEMENTAREA": 0.585,
    "YEARS_BEGINEXPLUATATION": 0.488,
    "YEARS_BUILD": 0.665,
    "COMMONAREA": 0.699,
    "ELEVATORS": 0.533,
    "ENTRANCES": 0.503,
    "FLOORSMAX": 0.498,
    "FLOORSMIN": 0.678,
    "LANDAREA": 0.594,
    "LIVINGAPARTMENTS": 0.684,
    "LIVINGAREA": 0.502,
    "NONLIVINGAPARTMENTS": 0.694,
    "NONLIVINGAREA": 0.552,
}
# (median, spread) of the normalised _AVG value in (0, 1); log-normal-like except for the "years" stems.
_BUILDING_LEVEL = {
    "APARTMENTS": (0.088, 0.75),
    "BASEMENTAREA": (0.076, 0.75),
    "YEARS_BEGINEXPLUATATION": (0.982, 0.02),
    "YEARS_BUILD": (0.755, 0.15),
    "COMMONAREA": (0.021, 0.9),
    "ELEVATORS": (0.08, 0.9),
    "ENTRANCES": (0.138, 0.6),
    "FLOORSMAX": (0.167, 0.5),
    "FLOORSMIN": (0.208, 0.5),
    "LANDAREA": (0.048, 0.9),
    "LIVINGAPARTMENTS": (0.076, 0.75),
    "LIVINGAREA": (0.075, 0.8),
    "NONLIVINGAPARTMENTS": (0.004, 1.2),
    "NONLIVINGAREA": (0.004, 1.5),
}


def _building(draw: _Draw, n: int, housing: np.ndarray) -> dict[str, object]:
    """Building block: one shared 'building known' mask (flats more than houses), per-stem extra gaps,
    and nearly collinear _AVG / _MODE / _MEDI versions sharing the same missing pattern."""
    rng = draw.rng
    known = rng.random(n) < np.where(housing == 0, 0.52, 0.45)
    size = rng.standard_normal(n)  # one building size factor keeps the stems correlated
    col: dict[str, object] = {}
    base_known = 1 - 0.483
    for stem, missing in _BUILDING_MISSING.items():
        stem_known = known & (rng.random(n) < min((1 - missing) / base_known, 1.0))
        median, spread = _BUILDING_LEVEL[stem]
        if stem.startswith("YEARS"):
            value = median + spread * (0.3 * size + rng.standard_normal(n)) * (1 - median)
        else:
            value = median * np.exp(spread * (0.6 * size + 0.8 * rng.standard_normal(n)))
        if stem.startswith("FLOORS"):
            value = np.round(value * 24) / 24
        value = np.clip(value, 0, 1)
        medi = np.clip(value * rng.uniform(0.97, 1.03, n), 0, 1)
        mode = np.clip(np.round(value, 2 if stem.startswith("YEARS") else 3), 0, 1)
        for suffix, series in (("AVG", value), ("MODE", mode), ("MEDI", medi)):
            col[f"{stem}_{suffix}"] = draw.blank(np.round(series, 4), ~stem_known)
    col["TOTALAREA_MODE"] = draw.blank(np.clip(np.round(0.069 * np.exp(0.8 * size), 4), 0, 1), ~known)
    col["FONDKAPREMONT_MODE"] = draw.pick(
        {
            "reg oper account": 73_830,
            "reg oper spec account": 12_080,
            "not specified": 5_687,
            "org spec account": 5_619,
        },
        n,
        missing=~known | (rng.random(n) < 0.39),
    )
    col["HOUSETYPE_MODE"] = draw.pick(
        {"block of flats": 150_503, "specific housing": 1_499, "terraced house": 1_212}, n, missing=~known
    )
    col["WALLSMATERIAL_MODE"] = draw.pick(
        {
            "Panel": 66_040,
            "Stone, brick": 64_815,
            "Block": 9_253,
            "Wooden": 5_362,
            "Mixed": 2_296,
            "Monolithic": 1_779,
            "Others": 1_625,
        },
        n,
        missing=~known | (rng.random(n) < 0.012),
    )
    col["EMERGENCYSTATE_MODE"] = draw.pick(
        {"No": 159_428, "Yes": 2_328}, n, missing=~known & (rng.random(n) < 0.98)
    )
    return col


def _per_client(owner: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(owner, weights=weights, minlength=n)


def _bureau(
    draw: _Draw, clients: _Clients, signals: dict[str, np.ndarray]
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Credits at other institutions (≈86 % of clients, ≈5.6 each) and their recent monthly statuses."""
    rng, n = draw.rng, clients.n
    counts = np.where(rng.random(n) < 0.14, 0, 1 + rng.negative_binomial(1.6, 1.6 / (1.6 + 4.6), n))
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    behaviour = clients.behaviour[owner]
    status = np.where(rng.random(m) < _sigmoid(-0.6 + 0.35 * behaviour), 0, 1)  # 0 Active, 1 Closed
    status = np.where(rng.random(m) < 0.0038, 2, status)
    status = np.where(rng.random(m) < 1.2e-5, 3, status)
    active = status == 0
    days_credit = np.where(active, -rng.integers(0, 1500, m), -rng.integers(30, 2923, m))
    duration = np.round(draw.lognormal(420, 0.9, m))
    end_date = draw.blank(days_credit + duration, 0.06)
    end_fact = draw.blank(np.minimum(days_credit + np.round(duration * rng.uniform(0.4, 1.0, m)), -1), active)
    overdue_now = active & (rng.random(m) < _sigmoid(-4.6 + 0.9 * behaviour))
    day_overdue = np.where(overdue_now, rng.integers(1, 180, m), 0)
    amount = np.round(draw.lognormal(125_000, 1.0, m), -2)
    credit_types = [
        "Consumer credit",
        "Credit card",
        "Car loan",
        "Mortgage",
        "Microloan",
        "Loan for business development",
        "Another type of loan",
        "Unknown type of loan",
        "Loan for working capital replenishment",
    ]
    credit_type = draw.codes([1_251_615, 402_195, 27_690, 18_391, 12_413, 1_975, 1_017, 555, 469], m)
    credit_type = np.where(rng.random(m) < 0.01 * _sigmoid(behaviour), 4, credit_type)
    card = credit_type == 1
    debt = np.where(active, np.round(amount * rng.random(m), 2), 0.0)
    debt = np.where(rng.random(m) < 0.002, -np.round(rng.uniform(1, 5_000, m), 2), debt)
    past_overdue = overdue_now | (rng.random(m) < _sigmoid(-3.2 + 0.8 * behaviour))
    max_overdue = np.where(past_overdue, np.round(draw.lognormal(8_000, 1.2, m), 2), 0.0)
    bureau = _frame(
        "bureau",
        {
            "SK_ID_CURR": clients.ids[owner],
            "SK_ID_BUREAU": 5_000_000 + np.arange(m),
            "CREDIT_ACTIVE": draw.levels(["Active", "Closed", "Sold", "Bad debt"], status),
            "CREDIT_CURRENCY": draw.pick(
                {"currency 1": 1_715_020, "currency 2": 1_224, "currency 3": 174, "currency 4": 10}, m
            ),
            "DAYS_CREDIT": days_credit,
            "CREDIT_DAY_OVERDUE": day_overdue,
            "DAYS_CREDIT_ENDDATE": end_date,
            "DAYS_ENDDATE_FACT": end_fact,
            "AMT_CREDIT_MAX_OVERDUE": draw.blank(max_overdue, ~past_overdue & (rng.random(m) < 0.7)),
            "CNT_CREDIT_PROLONG": draw.flag(0.005, m),
            "AMT_CREDIT_SUM": amount,
            "AMT_CREDIT_SUM_DEBT": draw.blank(debt, 0.15),
            "AMT_CREDIT_SUM_LIMIT": draw.blank(
                np.where(card, np.round(amount * rng.random(m), -2), 0.0), 0.34
            ),
            "AMT_CREDIT_SUM_OVERDUE": np.where(
                overdue_now, np.round(debt.clip(0) * rng.uniform(0.05, 0.3, m), 2), 0.0
            ),
            "CREDIT_TYPE": draw.levels(credit_types, credit_type),
            "DAYS_CREDIT_UPDATE": np.where(
                active,
                -rng.integers(0, 60, m),
                np.minimum(np.nan_to_num(end_fact, nan=-1) + rng.integers(0, 30, m), 0),
            ).astype(np.int64),
            "AMT_ANNUITY": draw.blank(np.round(amount / np.maximum(duration, 30) * 30, 2), 0.71),
        },
    )
    signals["bureau_active"] = _per_client(owner, n, active.astype(float))
    signals["bureau_overdue"] = _per_client(owner, n, overdue_now.astype(float)) > 0
    yield "bureau", bureau
    del bureau

    # Recent monthly statuses for ≈45 % of bureau credits.
    months = np.where(rng.random(m) < 0.45, np.minimum(1 + (-days_credit) // 30, MONTHS_PER_LOAN), 0)
    credit_row = np.repeat(np.arange(m), months)
    late_rate = _sigmoid(-4.0 + 1.1 * behaviour)[credit_row]
    k = len(credit_row)
    code = np.where(active[credit_row], draw.codes([0.85, 0.15], k), draw.codes([0.15, 0.15, 0.70], k))
    late = rng.random(k) < late_rate
    code = np.where(late, 3 + draw.codes([0.70, 0.10, 0.04, 0.03, 0.13], k), code)
    statuses = ["0", "X", "C", "1", "2", "3", "4", "5"]
    signals["bureau_late_months"] = _per_client(owner[credit_row], n, late.astype(float))
    yield (
        "bureau_balance",
        _frame(
            "bureau_balance",
            {
                "SK_ID_BUREAU": 5_000_000 + credit_row,
                "MONTHS_BALANCE": -_ranks_within(months),
                "STATUS": draw.levels(statuses, code),
            },
        ),
    )


def _previous(
    draw: _Draw, clients: _Clients, signals: dict[str, np.ndarray]
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Previous Home Credit applications (≈95 % of clients, ≈4.9 each) and, for approved loans, recent
    POS/cash snapshots, instalments and credit-card months."""
    rng, n = draw.rng, clients.n
    counts = np.where(rng.random(n) < 0.05, 0, 1 + rng.negative_binomial(1.3, 1.3 / (1.3 + 3.9), n))
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    behaviour = clients.behaviour[owner]
    contract = draw.codes([747_553, 729_151, 193_164, 346], m)  # Cash, Consumer, Revolving, XNA
    cash, consumer, revolving = contract == 0, contract == 1, contract == 2
    refused = rng.random(m) < _sigmoid(-1.95 + 0.75 * behaviour)
    status = np.where(
        refused, 2, draw.codes([0.76, 0.22, 0.0, 0.02], m)
    )  # Approved, Canceled, Refused, Unused
    approved = status == 0
    application = np.where(
        cash,
        draw.lognormal(250_000, 0.8, m),
        np.where(revolving, _snap(draw.lognormal(135_000, 0.6, m), 22_500), draw.lognormal(60_000, 0.9, m)),
    )
    application = np.round(np.where((status == 1) & (rng.random(m) < 0.6), 0.0, application), -1)
    credit = np.round(application * np.where(rng.random(m) < 0.4, 1.0, rng.uniform(0.9, 1.25, m)), 1)
    terms = np.array([6, 10, 12, 18, 24, 36, 48, 60], dtype=float)
    cnt_payment = terms[draw.codes([0.12, 0.14, 0.30, 0.09, 0.15, 0.12, 0.04, 0.04], m)]
    cnt_payment = np.where(revolving, 0.0, cnt_payment)
    cnt_payment = draw.blank(cnt_payment, (status == 1) & (rng.random(m) < 0.9))
    annuity = np.where(
        revolving, credit * 0.05, credit * 1.15 / np.maximum(np.nan_to_num(cnt_payment, nan=12), 1)
    )
    down_payment = draw.blank(
        np.where(rng.random(m) < 0.5, 0.0, np.round(application * rng.uniform(0, 0.3, m))), ~consumer
    )
    days_decision = -rng.integers(1, 2923, m)
    first_due = days_decision + rng.integers(10, 40, m)
    last_due_1st = first_due + 30 * (np.nan_to_num(cnt_payment, nan=12) - 1)
    finished = last_due_1st < 0
    sentinel = float(schema.DAYS_ANOMALY)

    def approved_days(values: np.ndarray, sentinel_rate: float | np.ndarray) -> np.ndarray:
        return draw.blank(np.where(rng.random(m) < sentinel_rate, sentinel, values), ~approved)

    previous = _frame(
        "previous_application",
        {
            "SK_ID_PREV": 1_000_000 + np.arange(m),
            "SK_ID_CURR": clients.ids[owner],
            "NAME_CONTRACT_TYPE": draw.levels(
                ["Cash loans", "Consumer loans", "Revolving loans", "XNA"], contract
            ),
            "AMT_ANNUITY": draw.blank(np.round(annuity, 3), np.isnan(cnt_payment)),
            "AMT_APPLICATION": application,
            "AMT_CREDIT": credit,
            "AMT_DOWN_PAYMENT": down_payment,
            "AMT_GOODS_PRICE": draw.blank(application, ~consumer & (rng.random(m) < 0.5)),
            "WEEKDAY_APPR_PROCESS_START": draw.pick(
                {d: 1.0 for d in ["MON", "TUE", "WED", "THU", "FRI", "SAT"]} | {"SUN": 0.5}, m
            ),
            "HOUR_APPR_PROCESS_START": np.clip(np.round(12.5 + 3.3 * rng.standard_normal(m)), 0, 23),
            "FLAG_LAST_APPL_PER_CONTRACT": draw.levels(["Y", "N"], draw.flag(0.005, m)),
            "NFLAG_LAST_APPL_IN_DAY": 1 - draw.flag(0.004, m),
            "RATE_DOWN_PAYMENT": down_payment / np.maximum(application, 1),
            "RATE_INTEREST_PRIMARY": draw.blank(rng.uniform(0.03, 1.0, m), 0.996),
            "RATE_INTEREST_PRIVILEGED": draw.blank(rng.uniform(0.37, 1.0, m), 0.996),
            "NAME_CASH_LOAN_PURPOSE": draw.levels(
                ["XAP", "XNA", "Repairs", "Other", "Urgent needs", "Buying a used car", "Everyday expenses"],
                np.where(
                    cash,
                    np.where(rng.random(m) < 0.9, 1, draw.codes([0, 0, 0.4, 0.3, 0.15, 0.05, 0.1], m)),
                    0,
                ),
            ),
            "NAME_CONTRACT_STATUS": draw.levels(["Approved", "Canceled", "Refused", "Unused offer"], status),
            "DAYS_DECISION": days_decision,
            "NAME_PAYMENT_TYPE": draw.pick(
                {"Cash through the bank": 0.62, "XNA": 0.375, "Non-cash from your account": 0.005}, m
            ),
            "CODE_REJECT_REASON": draw.levels(
                ["XAP", "HC", "LIMIT", "SCO", "CLIENT", "SCOFR", "XNA"],
                np.where(
                    refused, draw.codes([0, 0.49, 0.17, 0.12, 0, 0.02, 0.2], m), np.where(status == 3, 4, 0)
                ),
            ),
            "NAME_TYPE_SUITE": draw.pick(
                {
                    "Unaccompanied": 0.6,
                    "Family": 0.25,
                    "Spouse, partner": 0.08,
                    "Children": 0.04,
                    "Other_B": 0.02,
                    "Other_A": 0.01,
                },
                m,
                missing=0.49,
            ),
            "NAME_CLIENT_TYPE": draw.pick(
                {"Repeater": 1_064_852, "New": 290_678, "Refreshed": 119_795, "XNA": 1_941}, m
            ),
            "NAME_GOODS_CATEGORY": draw.levels(
                [
                    "XNA",
                    "Mobile",
                    "Consumer Electronics",
                    "Computers",
                    "Audio/Video",
                    "Furniture",
                    "Photo / Cinema Equipment",
                    "Construction Materials",
                    "Clothing and Accessories",
                ],
                np.where(consumer, 1 + draw.codes([0.30, 0.27, 0.14, 0.13, 0.06, 0.04, 0.04, 0.02], m), 0),
            ),
            "NAME_PORTFOLIO": draw.levels(
                ["POS", "Cash", "Cards", "XNA"],
                np.where(status == 1, 3, np.where(contract == 3, 3, contract)),
            ),
            "NAME_PRODUCT_TYPE": draw.pick({"XNA": 0.64, "x-sell": 0.27, "walk-in": 0.09}, m),
            "CHANNEL_TYPE": draw.pick(
                {
                    "Credit and cash offices": 594_158,
                    "Country-wide": 467_925,
                    "Stone": 206_268,
                    "Regional / Local": 102_602,
                    "Contact center": 59_987,
                    "AP+ (Cash loan)": 40_904,
                },
                m,
            ),
            "SELLERPLACE_AREA": np.where(consumer, rng.integers(0, 5000, m), -1),
            "NAME_SELLER_INDUSTRY": draw.levels(
                ["XNA", "Consumer electronics", "Connectivity", "Furniture", "Construction", "Clothing"],
                np.where(consumer, 1 + draw.codes([0.45, 0.30, 0.10, 0.09, 0.06], m), 0),
            ),
            "CNT_PAYMENT": cnt_payment,
            "NAME_YIELD_GROUP": draw.pick(
                {
                    "middle": 385_532,
                    "high": 353_331,
                    "XNA": 324_051,
                    "low_normal": 322_095,
                    "low_action": 92_041,
                },
                m,
            ),
            "PRODUCT_COMBINATION": draw.levels(
                [
                    "Cash",
                    "POS household with interest",
                    "POS mobile with interest",
                    "Card Street",
                    "Card X-Sell",
                    "Cash X-Sell: middle",
                    "Cash Street: high",
                ],
                np.where(
                    cash,
                    np.where(rng.random(m) < 0.5, 0, 5 + draw.codes([0.5, 0.5], m)),
                    np.where(revolving, 3 + draw.codes([0.5, 0.5], m), 1 + draw.codes([0.6, 0.4], m)),
                ),
            ),
            "DAYS_FIRST_DRAWING": approved_days(days_decision + 5.0, 0.96),
            "DAYS_FIRST_DUE": approved_days(first_due.astype(float), 0.03),
            "DAYS_LAST_DUE_1ST_VERSION": approved_days(last_due_1st, 0.06),
            "DAYS_LAST_DUE": approved_days(last_due_1st, np.where(finished, 0.05, 0.9)),
            "DAYS_TERMINATION": approved_days(last_due_1st + 5, np.where(finished, 0.05, 0.9)),
            "NFLAG_INSURED_ON_APPROVAL": draw.blank(draw.flag(0.33, m).astype(float), ~approved),
        },
    )
    signals["previous_refused"] = _per_client(owner, n, refused.astype(float))
    yield "previous_application", previous
    del previous

    loan_late_rate = _sigmoid(-3.6 + 1.25 * behaviour)
    instalment_loan = approved & ~revolving
    pos_months = np.where(
        instalment_loan, np.minimum(np.nan_to_num(cnt_payment, nan=12), MONTHS_PER_LOAN), 0
    ).astype(np.int64)
    yield (
        "POS_CASH_balance",
        _pos_cash(draw, clients, owner, pos_months, cnt_payment, days_decision, loan_late_rate),
    )
    inst_months = np.where(
        approved, np.where(revolving, rng.integers(1, MONTHS_PER_LOAN + 1, m), pos_months), 0
    )
    yield (
        "installments_payments",
        _instalments(
            draw, clients, owner, inst_months, first_due, annuity, loan_late_rate, revolving, signals
        ),
    )
    card_months = np.where(approved & revolving, rng.integers(1, MONTHS_PER_LOAN + 1, m), 0)
    yield "credit_card_balance", _credit_card(draw, clients, owner, card_months, credit, behaviour)


def _pos_cash(
    draw: _Draw,
    clients: _Clients,
    owner: np.ndarray,
    months: np.ndarray,
    cnt_payment: np.ndarray,
    days_decision: np.ndarray,
    late_rate: np.ndarray,
) -> pl.DataFrame:
    rng = draw.rng
    loan = np.repeat(np.arange(len(owner)), months)
    k = len(loan)
    rank = _ranks_within(months)
    start_month = days_decision[loan] // 30 + 1
    terms = np.nan_to_num(cnt_payment[loan], nan=12)
    future = np.maximum(terms - rank, 0)
    late = rng.random(k) < late_rate[loan]
    dpd = np.where(late, rng.integers(1, 60, k), 0)
    status = np.where(future == 0, 1, np.where(rng.random(k) < 0.01, 2, 0))
    return _frame(
        "POS_CASH_balance",
        {
            "SK_ID_PREV": 1_000_000 + loan,
            "SK_ID_CURR": clients.ids[owner[loan]],
            "MONTHS_BALANCE": np.minimum(start_month + rank, -1),
            "CNT_INSTALMENT": terms,
            "CNT_INSTALMENT_FUTURE": future.astype(float),
            "NAME_CONTRACT_STATUS": draw.levels(["Active", "Completed", "Signed"], status),
            "SK_DPD": dpd,
            "SK_DPD_DEF": np.where(rng.random(k) < 0.5, dpd, 0),
        },
    )


def _instalments(
    draw: _Draw,
    clients: _Clients,
    owner: np.ndarray,
    months: np.ndarray,
    first_due: np.ndarray,
    annuity: np.ndarray,
    late_rate: np.ndarray,
    revolving: np.ndarray,
    signals: dict[str, np.ndarray],
) -> pl.DataFrame:
    rng, n = draw.rng, clients.n
    loan = np.repeat(np.arange(len(owner)), months)
    k = len(loan)
    rank = _ranks_within(months)
    due = (first_due[loan] + 30 * rank).astype(float)
    late = rng.random(k) < late_rate[loan]
    days_late = np.where(late, 1 + rng.geometric(0.08, k), 0)
    days_early = np.where(late, 0, np.minimum(rng.geometric(0.12, k) - 1, 60))
    instalment = np.round(annuity[loan], 3)
    short = rng.random(k) < 0.6 * late_rate[loan]
    payment = np.round(np.where(short, instalment * rng.uniform(0.1, 0.95, k), instalment), 3)
    client = owner[loan]
    signals["instalment_late"] = _per_client(client, n, late.astype(float))
    signals["instalment_count"] = _per_client(client, n)
    signals["instalment_short"] = _per_client(client, n, short.astype(float))
    return _frame(
        "installments_payments",
        {
            "SK_ID_PREV": 1_000_000 + loan,
            "SK_ID_CURR": clients.ids[client],
            "NUM_INSTALMENT_VERSION": np.where(revolving[loan], 0.0, 1.0),
            "NUM_INSTALMENT_NUMBER": rank + 1,
            "DAYS_INSTALMENT": due,
            "DAYS_ENTRY_PAYMENT": draw.blank(due + days_late - days_early, 0.0002),
            "AMT_INSTALMENT": instalment,
            "AMT_PAYMENT": payment,
        },
    )


def _credit_card(
    draw: _Draw,
    clients: _Clients,
    owner: np.ndarray,
    months: np.ndarray,
    limit: np.ndarray,
    behaviour: np.ndarray,
) -> pl.DataFrame:
    rng = draw.rng
    loan = np.repeat(np.arange(len(owner)), months)
    k = len(loan)
    card_limit = np.maximum(_snap(limit[loan], 22_500), 45_000)
    utilisation = np.clip(_sigmoid(-0.8 + 0.8 * behaviour[loan]) + 0.15 * rng.standard_normal(k), 0, 1.1)
    balance = np.round(card_limit * utilisation, 3)
    drawings = np.round(np.where(rng.random(k) < 0.3, card_limit * rng.uniform(0, 0.3, k), 0.0), 3)
    atm = np.round(drawings * (rng.random(k) < 0.5), 3)
    minimum = np.round(balance * 0.05, 3)
    paid = np.round(
        np.where(rng.random(k) < 0.85, np.maximum(minimum, balance * rng.uniform(0, 0.4, k)), 0), 3
    )
    dpd = np.where(rng.random(k) < _sigmoid(-4.5 + 1.2 * behaviour[loan]), rng.integers(1, 90, k), 0)
    return _frame(
        "credit_card_balance",
        {
            "SK_ID_PREV": 1_000_000 + loan,
            "SK_ID_CURR": clients.ids[owner[loan]],
            "MONTHS_BALANCE": -1 - _ranks_within(months),
            "AMT_BALANCE": balance,
            "AMT_CREDIT_LIMIT_ACTUAL": card_limit.astype(np.int64),
            "AMT_DRAWINGS_ATM_CURRENT": draw.blank(atm, 0.19),
            "AMT_DRAWINGS_CURRENT": drawings,
            "AMT_DRAWINGS_OTHER_CURRENT": draw.blank(np.zeros(k), 0.19),
            "AMT_DRAWINGS_POS_CURRENT": draw.blank(drawings - atm, 0.19),
            "AMT_INST_MIN_REGULARITY": draw.blank(minimum, 0.08),
            "AMT_PAYMENT_CURRENT": draw.blank(paid, 0.2),
            "AMT_PAYMENT_TOTAL_CURRENT": paid,
            "AMT_RECEIVABLE_PRINCIPAL": np.round(balance * 0.95, 3),
            "AMT_RECIVABLE": balance,
            "AMT_TOTAL_RECEIVABLE": balance,
            "CNT_DRAWINGS_ATM_CURRENT": draw.blank((atm > 0) * rng.integers(1, 4, k).astype(float), 0.19),
            "CNT_DRAWINGS_CURRENT": (drawings > 0) * rng.integers(1, 6, k),
            "CNT_DRAWINGS_OTHER_CURRENT": draw.blank(np.zeros(k), 0.19),
            "CNT_DRAWINGS_POS_CURRENT": draw.blank(
                ((drawings - atm) > 0) * rng.integers(1, 5, k).astype(float), 0.19
            ),
            "CNT_INSTALMENT_MATURE_CUM": draw.blank(rng.integers(0, 40, k).astype(float), 0.08),
            "NAME_CONTRACT_STATUS": draw.pick({"Active": 0.96, "Completed": 0.035, "Signed": 0.005}, k),
            "SK_DPD": dpd,
            "SK_DPD_DEF": np.where(rng.random(k) < 0.3, dpd, 0),
        },
    )


AFFORDABILITY_EFFECT = 0.45
TERM_EFFECT = 10.0
SHORT_TERM_EFFECT = 12.0
MARKUP_EFFECT = 1.0
INCOME_EFFECT = 0.05


def loan_structure_logit(app: dict[str, object]) -> np.ndarray:
    """What the loan's structure adds to the log-odds of default, so that its levers matter as in real data.

    Affordability: log of the annuity's share of income (the heavier the annuity, the riskier). Term: the
    annuity / credit ratio raises the risk up to about 0.065 (shorter, steeper repayment plans) and lowers it
    again above 0.085 (small, very short loans): the known non-monotonic shape. Markup: every tenth of the goods
    price financed on top of it (insurance, fees) adds risk. Income: a little less risk with a higher income.
    """
    share = np.clip(np.asarray(app["_annuity_share"], dtype=float), 0.02, 1.0)
    rate = np.asarray(app["_payment_rate"], dtype=float)
    return (
        AFFORDABILITY_EFFECT * np.log(share / 0.163)
        + TERM_EFFECT * (np.clip(rate, 0.022, 0.065) - 0.05)
        - SHORT_TERM_EFFECT * np.maximum(rate - 0.085, 0)
        + MARKUP_EFFECT * np.clip(np.asarray(app["_markup"], dtype=float) - 1, 0, 0.6)
        - INCOME_EFFECT * np.log(np.clip(np.asarray(app["_income"], dtype=float), 25_650, 1e6) / 147_150)
    )


def default_logit(app: dict[str, object], signals: dict[str, np.ndarray]) -> np.ndarray:
    """Log-odds of default (without intercept) from what a model can observe, plus the hidden EXT latents.

    Effect sizes follow home_credit.md §6: external scores dominate; youth, short employment, high payment rate,
    male gender, lower education and poor region rating add risk; in the side tables overdue bureau credits,
    late bureau months, refused applications and late or short instalments do.
    """
    instalments = np.maximum(signals["instalment_count"], 1)
    return (
        -0.38 * app["_ext_z1"]
        - 0.45 * app["_ext_z2"]
        - 0.50 * app["_ext_z3"]
        - 0.010 * (app["_age"] - 43.0)
        + 0.14 * np.where(app["_anomaly"], 0.0, np.clip(np.log(5.0 / app["_years_employed"]), -2, 3))
        - 0.15 * app["_anomaly"]
        + loan_structure_logit(app)
        + 0.30 * app["_male"]
        + 0.22 * (app["_education"] != 1)
        + 0.25 * (app["_education"] == 3)
        + 0.22 * (app["_rating"] - 2)
        - 0.10 * app["_own_car"]
        - 0.2 * app["_revolving"]
        + 0.45 * signals["bureau_overdue"]
        + 0.06 * np.minimum(signals["bureau_active"], 8)
        + 0.25 * np.minimum(signals["bureau_late_months"], 4)
        + 0.25 * np.minimum(signals["previous_refused"], 4)
        + 1.8 * signals["instalment_late"] / instalments
        + 0.8 * signals["instalment_short"] / instalments
    )


def _calibrated_target(rng: np.random.Generator, logit: np.ndarray, rate: float) -> np.ndarray:
    """Bernoulli draws whose mean is ``rate``: the intercept is found by bisection."""
    low, high = -15.0, 5.0
    for _ in range(60):
        middle = (low + high) / 2
        if _sigmoid(logit + middle).mean() > rate:
            high = middle
        else:
            low = middle
    return (rng.random(len(logit)) < _sigmoid(logit + low)).astype(np.int64)


def generate_tables(n_train: int, seed: int = 0) -> Iterator[tuple[str, pl.DataFrame]]:
    """Yield ``(kaggle_table_name, frame)`` for the seven tables (application as train and test parts).

    Side tables come first so each can be loaded and freed before the next is drawn; the application tables come
    last because TARGET depends on what the side tables show.
    """
    draw = _Draw(seed)
    clients = _Clients(draw, n_train)
    app = _application(draw, clients)
    signals: dict[str, np.ndarray] = {}
    yield from _bureau(draw, clients, signals)
    yield from _previous(draw, clients, signals)
    target = _calibrated_target(draw.rng, default_logit(app, signals), DEFAULT_RATE)
    application = _frame("application_train", {**app, "TARGET": target})
    is_test = pl.Series(clients.is_test)
    yield "application_train", application.filter(~is_test)
    yield "application_test", application.filter(is_test).drop("TARGET")
