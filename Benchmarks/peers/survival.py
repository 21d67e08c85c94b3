#!/usr/bin/env python3
"""Peers of `pom-bench survival`: Kaplan-Meier per arm, the log-rank test and RMST to 336 h over
1,000,000 continuous durations (hours) in two arms with random censoring, the same kind of data as
pom's benchmark (event times exponential with means 100 h and 120 h, censoring uniform on 0-500 h;
seeded, not identical draws).

- lifelines 0.30.3: KaplanMeierFitter().fit per arm (survival function, log(-log) band, median),
  median_survival_times of the band, logrank_test between the arms, restricted_mean_survival_time
  of each fitted model at 336 h.
- numpy: the same figures vectorised (one argsort, np.unique, cumulative sums), written to be fast.

Run with the peers' environment: python3 Benchmarks/peers/survival.py [--json] [--quick] [--lifelines-runs N]
"""
import resource
import time
import warnings

import numpy as np
import scipy.stats as st
import lifelines
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from peerlib import Report, arguments, count_label

warnings.simplefilter("ignore")
TAU = 336.0


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def data(n=1_000_000, seed=20261129):
    rng = np.random.default_rng(seed)
    g = (rng.random(n) >= 0.5).astype(np.int64)
    t = rng.exponential(np.where(g == 0, 100.0, 120.0))
    c = 500.0 * rng.random(n)
    return np.minimum(t, c), (t <= c), g


def with_lifelines(d, e, g):
    out = []
    for arm in (0, 1):
        kmf = KaplanMeierFitter().fit(d[g == arm], e[g == arm])
        ci = median_survival_times(kmf.confidence_interval_)
        out.append((kmf.median_survival_time_, ci, restricted_mean_survival_time(kmf, t=TAU)))
    lr = logrank_test(d[g == 0], d[g == 1], e[g == 0], e[g == 1])
    return lr.test_statistic, out


def runs(ds):
    """Start of each run of equal values in sorted `ds`, and the run lengths."""
    change = np.empty(len(ds), dtype=bool)
    change[0] = True
    np.not_equal(ds[1:], ds[:-1], out=change[1:])
    first = np.flatnonzero(change)
    return first, np.diff(np.append(first, len(ds)))


def km_numpy(d, e):
    order = np.argsort(d)
    ds, es = d[order], e[order]
    first, counts = runs(ds)
    times = ds[first]
    deaths = np.add.reduceat(es.astype(np.int64), first)
    at_risk = len(ds) - np.concatenate(([0], np.cumsum(counts)[:-1]))
    log_s = np.cumsum(np.log1p(-deaths / at_risk))
    s = np.exp(log_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), 0.0))
        z = st.norm.ppf(0.975)
        v = np.log(s)
        lower = np.nan_to_num(np.exp(-np.exp(np.log(-v) - z * np.sqrt(gw) / v)), nan=1.0)
        upper = np.nan_to_num(np.exp(-np.exp(np.log(-v) + z * np.sqrt(gw) / v)), nan=1.0)
    idx = np.searchsorted(-s, -0.5)
    median = times[idx] if idx < len(times) else np.inf
    keep = times <= TAU
    ends = np.append(times[keep][1:], TAU)
    rmst = times[keep][0] + np.sum((ends - times[keep]) * s[keep])  # S = 1 on [0, first time)
    return times, at_risk, deaths, s, lower, upper, median, rmst


def logrank_numpy(d, e, g):
    order = np.argsort(d)
    ds, es, gs = d[order], e[order].astype(np.int64), g[order]
    first, counts = runs(ds)
    n_total = len(ds) - np.concatenate(([0], np.cumsum(counts)[:-1]))
    deaths = np.add.reduceat(es, first)
    in1 = (gs == 1).astype(np.int64)
    n1_total = in1.sum()
    removed1 = np.add.reduceat(in1, first)
    n1 = n1_total - np.concatenate(([0], np.cumsum(removed1)[:-1]))
    d1 = np.add.reduceat(es * in1, first)
    m = deaths > 0
    nt, dt, n1m = n_total[m].astype(float), deaths[m].astype(float), n1[m].astype(float)
    expected = n1m * dt / nt
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(nt > 1, (nt - dt) / (nt - 1), 1.0)
    var = np.sum(spread * dt * n1m * (nt - n1m) / nt ** 2)
    z = d1[m].sum() - expected.sum()
    return z * z / var


def with_numpy(d, e, g):
    out = [km_numpy(d[g == arm], e[g == arm]) for arm in (0, 1)]
    return logrank_numpy(d, e, g), [(o[6], o[7]) for o in out]


def timed(fn, runs, *args):
    """Median wall seconds over `runs` after a warm-up, the result, and CPU seconds per run
    (warm-up included; the machine is shared, so CPU time is the steadier figure)."""
    cpu = time.process_time()
    fn(*args)
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result, (time.process_time() - cpu) / (runs + 1)


def main():
    def options(parser):
        parser.add_argument("--lifelines-runs", type=int, default=3)
        parser.add_argument("--numpy-runs", type=int, default=5)
    args = arguments(__doc__, options)
    report = Report("survival", args)
    n = report.size(1_000_000, 100_000)
    label = count_label(n)
    lifelines_runs, numpy_runs = report.runs(args.lifelines_runs), report.runs(args.numpy_runs)
    d, e, g = data(n)
    report.info(f"lifelines {lifelines.__version__}, numpy {np.__version__}; {n:,} durations, 2 arms, "
                f"{e.mean():.1%} events, tau {TAU:g} h")
    t, (stat, arms), cpu = timed(with_lifelines, lifelines_runs, d, e, g)
    note = (f"log-rank {stat:.6f}, RMST {arms[0][2]:.6f} / {arms[1][2]:.6f}, medians {arms[0][0]:.4f} / "
            f"{arms[1][0]:.4f}; CPU {cpu * 1000:.1f} ms/run")
    report.result(f"lifelines/KM per arm + logrank_test + RMST(336) + median CI, {label} continuous, 2 arms", t,
                  lifelines_runs, note=note,
                  text=f"survival/lifelines KM per arm + logrank_test + RMST(336) + median CI: {t:.4f} s "
                       f"(median of {lifelines_runs}), peak RSS {peak_mib():.0f} MiB — {note}")
    t, _, cpu = timed(np.sort, numpy_runs, d)
    note = f"CPU {cpu * 1000:.1f} ms/run"
    report.result(f"numpy/np.sort of the {label} durations (for scale)", t, numpy_runs, note=note,
                  text=f"survival/numpy np.sort of the {label} durations (for scale): {t:.4f} s "
                       f"(median of {numpy_runs}); {note}")
    t, (stat, arms), cpu = timed(with_numpy, numpy_runs, d, e, g)
    note = (f"log-rank {stat:.6f}, RMST {arms[0][1]:.6f} / {arms[1][1]:.6f}, medians {arms[0][0]:.4f} / "
            f"{arms[1][0]:.4f}; CPU {cpu * 1000:.1f} ms/run")
    report.result(f"numpy/vectorised KM + band per arm + log-rank + RMST(336), {label} continuous, 2 arms", t,
                  numpy_runs, note=note,
                  text=f"survival/numpy vectorised KM + band per arm + log-rank + RMST(336): {t:.4f} s "
                       f"(median of {numpy_runs}), peak RSS {peak_mib():.0f} MiB — {note}")


if __name__ == "__main__":
    main()
