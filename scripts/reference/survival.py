#!/usr/bin/env python3
"""Reference values for pom's survival statistics (Tests/OptimizerTests/SurvivalTests.swift).

Run from the repository root with lifelines 0.30.3, numpy, pandas and scipy installed:

    python3 scripts/reference/survival.py

Writes Tests/OptimizerTests/Fixtures/survival/<name>.csv (the data) and <name>.json (the
figures) for several seeded data sets, and special.json (incomplete gamma, chi-square and
normal quantiles from scipy).

Figures come from lifelines unless marked otherwise:
- KaplanMeierFitter: survival_function_ and confidence_interval_ on the whole timeline,
  median_survival_time_ and median_survival_times(confidence_interval_), qth_survival_time(q)
  for other levels (on the survival function and on each edge of the band),
  survival_function_at_times, and restricted_mean_survival_time(kmf, tau, return_variance=True).
- NelsonAalenFitter(nelson_aalen_smoothing=False): cumulative_hazard_ and cumulative_hazard_at_times.
- multivariate_logrank_test over all groups: test_statistic, p_value, degrees_of_freedom.
Computed here with numpy (lifelines has no exact figure for them):
- restricted_time_variance_exact: 2 * integral_0^tau t S(t) dt - rmst^2 integrated exactly over the
  step function (lifelines' return_variance integrates the same quantity with scipy quad, which is
  only accurate to about 1e-4 on a step function with many jumps; that figure is kept as
  restricted_time_variance_lifelines_quad).
- rmst_variance: the estimator's variance sum_{t_k <= tau} A_k^2 d_k / (n_k (n_k - d_k)),
  A_k = integral_{t_k}^tau S (Klein & Moeschberger 2003, section 4.5; R survival's rmean se).
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.special as sp
import scipy.stats as st
import lifelines
from lifelines import KaplanMeierFitter, NelsonAalenFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times, qth_survival_time, restricted_mean_survival_time

warnings.simplefilter("ignore")
OUT = os.path.join("Tests", "OptimizerTests", "Fixtures", "survival")
QUANTILES = [0.9, 0.75, 0.25, 0.1]


def integer_ties(rng):
    """Whole hours with many ties; two arms; random censoring."""
    rows = []
    for arm, scale, n in [("control", 140.0, 400), ("treatment", 90.0, 380)]:
        t = np.ceil(rng.exponential(scale, n) / 6.0) * 6.0  # six-hour reporting grid: heavy ties
        c = np.ceil(rng.uniform(0, 500, n) / 6.0) * 6.0
        rows += [(arm, float(min(a, b)), int(a <= b)) for a, b in zip(t, c)]
    return rows, [24.0, 72.0, 168.0, 336.0, 5.0, 6.0, 0.0, 10000.0], [168.0, 336.0, 100.5, 600.0], 0.95


def continuous(rng):
    """Continuous durations, three arms, censoring, a few zero durations."""
    rows = []
    for arm, shape, scale, n in [("email", 1.3, 120.0, 300), ("sms", 0.9, 100.0, 260), ("letter", 1.6, 200.0, 320)]:
        t = scale * rng.weibull(shape, n)
        c = rng.exponential(400.0, n)
        d = np.minimum(t, c)
        d[:3] = 0.0
        rows += [(arm, float(a), int(b <= cc or i < 2)) for i, (a, b, cc) in enumerate(zip(d, t, c))]
    return rows, [0.0, 1.5, 24.0, 100.0, 250.0, 1e6], [50.0, 200.0, 333.3], 0.95


def median_never(rng):
    """One arm where fewer than half ever pay (median and bounds never reached); 90% level."""
    rows = []
    t = rng.exponential(80.0, 200)
    c = rng.uniform(0, 300, 200)
    rows += [("responsive", float(min(a, b)), int(a <= b)) for a, b in zip(t, c)]
    t = rng.exponential(900.0, 150)
    c = rng.uniform(0, 300, 150)
    rows += [("silent", float(min(a, b)), int(a <= b)) for a, b in zip(t, c)]
    return rows, [10.0, 100.0, 299.0], [100.0, 250.0], 0.90


def late_censoring(rng):
    """Administrative censoring only: everyone unpaid at 720 h is censored there (ties at 720)."""
    rows = []
    for arm, scale, n in [("a", 300.0, 250), ("b", 420.0, 250)]:
        t = np.round(rng.exponential(scale, n), 1)
        rows += [(arm, float(min(x, 720.0)), int(x < 720.0)) for x in t]
    return rows, [24.0, 168.0, 720.0, 800.0], [720.0, 1000.0, 360.0], 0.95


def small(rng):
    """A hand-sized set: ties of events and censorings at one time, zero durations, and the last
    subject paying (survival reaches 0)."""
    rows = [("x", 0.0, 1), ("x", 0.0, 0), ("x", 2.0, 1), ("x", 2.0, 1), ("x", 2.0, 0), ("x", 3.5, 0),
            ("x", 5.0, 1), ("x", 7.0, 0), ("x", 9.0, 1), ("x", 9.0, 1),
            ("y", 1.0, 1), ("y", 2.0, 0), ("y", 4.0, 1), ("y", 4.0, 1), ("y", 6.0, 1), ("y", 8.0, 0), ("y", 12.0, 0)]
    return rows, [0.0, 1.0, 2.0, 3.0, 9.0, 20.0], [2.0, 9.0, 15.0], 0.95


def exact_step_integrals(sf, tau):
    t = sf.index.values.astype(float)
    s = sf.values[:, 0]
    keep = t <= tau
    t, s = t[keep], s[keep]
    ends = np.append(t[1:], tau)
    mean = np.sum((ends - t) * s)
    second = np.sum((ends ** 2 - t ** 2) * s)
    return t, s, ends, mean, second


def group_figures(d, times, taus, level):
    alpha = 1 - level
    kmf = KaplanMeierFitter(alpha=alpha).fit(d["duration"], d["event"])
    naf = NelsonAalenFitter(alpha=alpha, nelson_aalen_smoothing=False).fit(d["duration"], d["event"])
    ci = kmf.confidence_interval_
    med_ci = median_survival_times(ci)
    fin = lambda x: None if not np.isfinite(x) else float(x)
    out = {
        "n": int(len(d)),
        "events": int(d["event"].sum()),
        "timeline": [float(x) for x in kmf.survival_function_.index],
        "survival": [float(x) for x in kmf.survival_function_.iloc[:, 0]],
        "survival_lower": [float(x) for x in ci.iloc[:, 0]],
        "survival_upper": [float(x) for x in ci.iloc[:, 1]],
        "cumulative_hazard": [float(x) for x in naf.cumulative_hazard_.iloc[:, 0]],
        "median": fin(kmf.median_survival_time_),
        "median_ci": [fin(med_ci.iloc[0, 0]), fin(med_ci.iloc[0, 1])],
        "quantiles": [
            {"q": q, "time": fin(qth_survival_time(q, kmf.survival_function_)),
             "lower": fin(qth_survival_time(q, ci.iloc[:, [0]])), "upper": fin(qth_survival_time(q, ci.iloc[:, [1]]))}
            for q in QUANTILES
        ],
        "survival_at": [float(x) for x in kmf.survival_function_at_times(times).values],
        "cumulative_hazard_at": [float(x) for x in naf.cumulative_hazard_at_times(times).values],
        "rmst": [],
    }
    for tau in taus:
        mean, var_quad = restricted_mean_survival_time(kmf, t=tau, return_variance=True)
        t, s, ends, exact_mean, second = exact_step_integrals(kmf.survival_function_, tau)
        # Klein & Moeschberger: A_k = integral from t_k to tau of S.
        seg = (ends - t) * s
        tail = np.cumsum(seg[::-1])[::-1]
        table = kmf.event_table.loc[t]
        n_k = table["at_risk"].values.astype(float)
        d_k = table["observed"].values.astype(float)
        ok = (d_k > 0) & (n_k > d_k)
        est_var = float(np.sum(tail[ok] ** 2 * d_k[ok] / (n_k[ok] * (n_k[ok] - d_k[ok]))))
        out["rmst"].append({
            "tau": tau, "rmst": float(mean), "rmst_exact_numpy": float(exact_mean),
            "restricted_time_variance_lifelines_quad": float(var_quad),
            "restricted_time_variance_exact": float(second - exact_mean ** 2),
            "rmst_variance": est_var,
        })
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    sets = {"integer_ties": integer_ties, "continuous": continuous, "median_never": median_never,
            "late_censoring": late_censoring, "small": small}
    for k, (name, make) in enumerate(sets.items()):
        rng = np.random.default_rng(20261129 + k)
        rows, times, taus, level = make(rng)
        df = pd.DataFrame(rows, columns=["arm", "duration", "event"])
        df.to_csv(os.path.join(OUT, name + ".csv"), index=False)
        # The figures describe the file as written, parsed exactly (pandas' default parser is not
        # correctly rounded).
        df = pd.read_csv(os.path.join(OUT, name + ".csv"), float_precision="round_trip")
        groups = list(pd.unique(df["arm"]))
        lr = multivariate_logrank_test(df["duration"], df["arm"], df["event"])
        ref = {
            "file": name + ".csv", "level": level, "times": times, "taus": taus, "group_order": groups,
            "groups": {g: group_figures(df[df["arm"] == g], times, taus, level) for g in groups},
            "all": group_figures(df, times, taus, level),
            "logrank": {"statistic": float(lr.test_statistic), "p_value": float(lr.p_value),
                        "degrees_of_freedom": int(lr.degrees_of_freedom)},
            "versions": {"lifelines": lifelines.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        }
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")

    special = {"gamma": [], "chi2_sf": [], "norm_ppf": [], "versions": {"scipy": scipy.__version__}}
    for a in [0.5, 1.0, 1.5, 2.0, 3.5, 10.0, 50.0]:
        for x in [1e-3, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 80.0, 200.0]:
            special["gamma"].append({"a": a, "x": x, "P": float(sp.gammainc(a, x)), "Q": float(sp.gammaincc(a, x))})
    for k in [1, 2, 3, 4, 7]:
        for x in [0.0, 1e-8, 0.01, 0.5, 1.0, 3.84, 10.0, 22.732709614135317, 91.69484077881161, 300.0, 1000.0]:
            special["chi2_sf"].append({"df": k, "x": x, "sf": float(st.chi2.sf(x, k))})
    for p in [1e-300, 1e-12, 1e-5, 0.01, 0.02425, 0.025, 0.05, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.995, 1 - 1e-10]:
        special["norm_ppf"].append({"p": p, "x": float(st.norm.ppf(p))})
    with open(os.path.join(OUT, "special.json"), "w") as f:
        json.dump(special, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
