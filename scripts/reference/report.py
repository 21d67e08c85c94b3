#!/usr/bin/env python3
"""Reference values for pom's A/B report statistics (Tests/ReportsTests/ArmStatisticsTests.swift).

Run from the repository root with lifelines 0.30.3, numpy, pandas and scipy installed:

    python3 scripts/reference/report.py

Writes Tests/ReportsTests/Fixtures/report/ab.csv (columns arm, duration, event: a seeded two-arm
experiment in hours, continuous payment times with a share rounded to whole hours for ties,
administrative and random censoring) unless it exists, reads it back and writes ab.json with:

- per arm, from lifelines' KaplanMeierFitter: n, events, median_survival_time_ and
  median_survival_times(confidence_interval_), paid-within rates 1 - S(t) at 24 h, 168 h, 720 h
  (survival_function_at_times) with the band [1 - upper(t), 1 - lower(t)] read off
  confidence_interval_ as a right-continuous step function, the follow-up (largest duration), and
  restricted_mean_survival_time(kmf, tau) with tau = min(720, smallest follow-up);
- the RMST variance of Klein & Moeschberger (sum over event times up to tau of
  A_k^2 d_k / (n_k (n_k - d_k)), A_k the area under S from t_k to tau; computed here with numpy,
  lifelines has no such figure) and from it the difference treatment - control, its standard
  error sqrt(var_t + var_c), the 95% interval and the two-sided normal p-value (scipy);
- lifelines' logrank_test between the arms (statistic, p-value);
- Schoenfeld's required events and detectable hazard ratio (scipy's norm.ppf);
- scipy.stats.chisquare of several sample-ratio cases (counts, expected split).
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st
import lifelines
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times, restricted_mean_survival_time

warnings.simplefilter("ignore")
OUT = os.path.join("Tests", "ReportsTests", "Fixtures", "report")
CSV = os.path.join(OUT, "ab.csv")
HORIZONS = [24.0, 168.0, 720.0]


def make_data(path):
    """control: log-normal payment times (median ~80 h); treatment: faster (median ~55 h); a
    fifth never pay; a third of the durations on whole hours; censored at the end of follow-up
    (uniform enrolment over 40 days, as-of at day 45) or earlier at random."""
    rng = np.random.default_rng(20261129)
    rows = []
    for arm, mu, n in [("control", np.log(80.0), 620), ("treatment", np.log(55.0), 580)]:
        t = np.exp(rng.normal(mu, 1.1, n))
        t[rng.random(n) < 0.2] = np.inf
        follow = (45.0 - rng.uniform(0, 40, n)) * 24.0
        drop = np.where(rng.random(n) < 0.1, rng.uniform(0, 400, n), np.inf)
        c = np.minimum(follow, drop)
        d = np.minimum(t, c)
        whole = rng.random(n) < 0.33
        d[whole] = np.ceil(d[whole])
        rows += [(arm, float(x), int(a <= b)) for x, a, b in zip(d, t, c)]
    pd.DataFrame(rows, columns=["arm", "duration", "event"]).to_csv(path, index=False)


def at(frame, t):
    """Value of a right-continuous step function (indexed by time) at t, as pandas' asof."""
    return frame.asof(t)


def arm_figures(d, tau):
    kmf = KaplanMeierFitter(alpha=0.05).fit(d["duration"], d["event"])
    ci = kmf.confidence_interval_
    med = median_survival_times(ci)
    fin = lambda x: None if not np.isfinite(x) else float(x)
    follow = float(d["duration"].max())
    paid = []
    for h in HORIZONS:
        if h > follow:
            paid.append({"hours": h, "rate": None, "ci": None})
            continue
        s = float(kmf.survival_function_at_times([h]).values[0])
        lo = float(at(ci.iloc[:, 0], h))
        hi = float(at(ci.iloc[:, 1], h))
        paid.append({"hours": h, "rate": 1 - s, "ci": [1 - hi, 1 - lo]})
    rmst = float(restricted_mean_survival_time(kmf, t=tau))
    sf = kmf.survival_function_
    t = sf.index.values.astype(float)
    s = sf.values[:, 0]
    keep = t <= tau
    t, s = t[keep], s[keep]
    ends = np.append(t[1:], tau)
    seg = (ends - t) * s
    tail = np.cumsum(seg[::-1])[::-1]
    table = kmf.event_table.loc[t]
    n_k = table["at_risk"].values.astype(float)
    d_k = table["observed"].values.astype(float)
    ok = (d_k > 0) & (n_k > d_k)
    var = float(np.sum(tail[ok] ** 2 * d_k[ok] / (n_k[ok] * (n_k[ok] - d_k[ok]))))
    return {"n": int(len(d)), "events": int(d["event"].sum()), "median": fin(kmf.median_survival_time_),
            "median_ci": [fin(med.iloc[0, 0]), fin(med.iloc[0, 1])], "paid_within": paid,
            "follow_up": follow, "rmst": rmst, "rmst_variance": var}


def main():
    os.makedirs(OUT, exist_ok=True)
    if not os.path.exists(CSV):
        make_data(CSV)
    df = pd.read_csv(CSV, float_precision="round_trip")
    c, t = df[df["arm"] == "control"], df[df["arm"] == "treatment"]
    tau = min(720.0, float(c["duration"].max()), float(t["duration"].max()))
    arms = {"control": arm_figures(c, tau), "treatment": arm_figures(t, tau)}
    diff = arms["treatment"]["rmst"] - arms["control"]["rmst"]
    se = float(np.sqrt(arms["treatment"]["rmst_variance"] + arms["control"]["rmst_variance"]))
    z = float(st.norm.ppf(0.975))
    lr = logrank_test(t["duration"], c["duration"], t["event"], c["event"])
    n = len(c) + len(t)
    p = len(t) / n
    events = int(df["event"].sum())
    zs = float(st.norm.ppf(0.975) + st.norm.ppf(0.8))
    srm_cases = [
        {"observed": [500, 500], "weights": [50, 50]},
        {"observed": [5210, 4790], "weights": [50, 50]},
        {"observed": [312, 688], "weights": [30, 70]},
        {"observed": [1000, 1100, 870], "weights": [1, 1, 1]},
        {"observed": [10, 3], "weights": [50, 50]},
    ]
    for case in srm_cases:
        obs = np.array(case["observed"], dtype=float)
        w = np.array(case["weights"], dtype=float)
        res = st.chisquare(obs, obs.sum() * w / w.sum())
        case["statistic"] = float(res.statistic)
        case["p_value"] = float(res.pvalue)
    ref = {
        "file": "ab.csv", "level": 0.95, "tau": tau, "horizons": HORIZONS, "arms": arms,
        "rmst_difference": {"value": diff, "se": se, "ci": [diff - z * se, diff + z * se],
                            "p_value": float(2 * st.norm.sf(abs(diff / se)))},
        "logrank": {"statistic": float(lr.test_statistic), "p_value": float(lr.p_value)},
        "power": {"allocation": p, "events": events,
                  "required_events_hr_1_25": zs ** 2 / (p * (1 - p) * np.log(1.25) ** 2),
                  "detectable_hazard_ratio": float(np.exp(zs / np.sqrt(p * (1 - p) * events)))},
        "srm": srm_cases,
        "versions": {"lifelines": lifelines.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "scipy": scipy.__version__},
    }
    with open(os.path.join(OUT, "ab.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
