#!/usr/bin/env python3
"""Peers of `pom-bench logistic`: scikit-learn and statsmodels fitting a logistic regression on a dense
1,000,000 x 64 design (features N(0,1), true weights N(0, 0.3), seeded), and pandas parsing a numeric
CSV of the same shape as pom's CSV benchmark. The data are of the same kind as pom's, not identical:
compare the objective per row and the time.

Objective per row: (sum_i logloss_i + (lambda/2) ||beta||^2) / n with the intercept unpenalised;
scikit-learn's default C = 1 is lambda = 1.

Run with the peers' environment:
  python3 Benchmarks/peers/logistic.py [--json] [--quick] [--skip-fits] [--skip-statsmodels] [--skip-csv]
The fits report to pom-bench's group `logistic`, the CSV parse to its group `csv`.
"""
import csv as csv_module
import os
import resource
import tempfile
import time

import numpy as np
import pandas as pd
import sklearn
import statsmodels
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from peerlib import Report, arguments, count_label


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def objective(X, y, intercept, coef, lam):
    z = X @ coef + intercept
    return (np.sum(np.logaddexp(0, z) - y * z) + 0.5 * lam * np.dot(coef, coef)) / len(y)


def main():
    def options(parser):
        parser.add_argument("--skip-fits", action="store_true")
        parser.add_argument("--skip-statsmodels", action="store_true")
        parser.add_argument("--skip-csv", action="store_true")
    args = arguments(__doc__, options)
    if not args.skip_fits:
        fits(Report("logistic", args), args.skip_statsmodels)
    if not args.skip_csv:
        csv(Report("csv", args))


def fits(report, skip_statsmodels):
    n, k = report.size(1_000_000, 100_000), 64
    rows = count_label(n)
    rng = np.random.default_rng(20261129)
    X = rng.standard_normal((n, k))
    w = rng.normal(0, 0.3, k)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    design_mib = X.nbytes / 2**20
    report.info(f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, statsmodels {statsmodels.__version__}, "
                f"pandas {pd.__version__}; design {design_mib:.0f} MiB")
    before = peak_mib()

    times, clf = [], None
    cpu = time.process_time()
    for _ in range(3):
        start = time.perf_counter()
        clf = LogisticRegression(solver="lbfgs", tol=1e-6).fit(X, y)
        times.append(time.perf_counter() - start)
    cpu = (time.process_time() - cpu) / 3
    f_sk = objective(X, y, clf.intercept_[0], clf.coef_[0], 1.0)
    tight = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=100).fit(X, y)
    f_opt = objective(X, y, tight.intercept_[0], tight.coef_[0], 1.0)
    t_sk = float(np.median(times))
    note = (f"objective/row {f_sk:.12f}, {f_sk - f_opt:.2e} above the optimum per row, {clf.n_iter_[0]} iterations, "
            f"{cpu:.2f} CPU s per fit, peak RSS +{peak_mib() - before:.0f} MiB over the data")
    report.result(f"sklearn/fit {rows}x64 lambda=1 (C=1), lbfgs tol 1e-6 (its default solver)", t_sk, 3,
                  n / t_sk / 1e6, "M rows/s", note,
                  text=f"sklearn lbfgs tol=1e-6 (C=1): {t_sk:.4f} s (median of 3), {note}; optimum "
                       f"(newton-cholesky tol=1e-12) objective/row {f_opt:.12f}")

    start = time.perf_counter()
    nc = LogisticRegression(solver="newton-cholesky", tol=1e-6).fit(X, y)
    t_nc = time.perf_counter() - start
    note = (f"objective/row {objective(X, y, nc.intercept_[0], nc.coef_[0], 1.0):.12f}, {nc.n_iter_[0]} iterations")
    report.result(f"sklearn/fit {rows}x64 lambda=1 (C=1), newton-cholesky tol 1e-6", t_nc, 1, n / t_nc / 1e6,
                  "M rows/s", note, text=f"sklearn newton-cholesky tol=1e-6 (C=1): {t_nc:.4f} s, {note}")

    if not skip_statsmodels:
        Xc = sm.add_constant(X)
        start, cpu = time.perf_counter(), time.process_time()
        r = sm.Logit(y, Xc).fit(method="newton", disp=0)
        t_sm, cpu = time.perf_counter() - start, time.process_time() - cpu
        note = f"objective/row {-r.llf / n:.12f}, {r.mle_retvals['iterations']} iterations, {cpu:.2f} CPU s"
        report.result(f"statsmodels/fit {rows}x64 lambda=0, Logit newton with standard errors", t_sm, 1,
                      n / t_sm / 1e6, "M rows/s", note,
                      text=f"statsmodels Logit newton (lambda=0, with standard errors): {t_sm:.4f} s, {note}")
        del Xc


def csv(report):
    rows, cols = report.size(1_500_000, 150_000), 20
    r2 = np.random.default_rng(7)
    data = np.round(3 * r2.standard_normal((rows, cols)), 6)
    data[:, 0] = (r2.random(rows) < 0.5).astype(float)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "numeric.csv")
        pd.DataFrame(data, columns=[f"c{j}" for j in range(cols)]).to_csv(path, index=False, float_format="%.6f")
        size = os.path.getsize(path)
        times = []
        cpu = time.process_time()
        for _ in range(3):
            start = time.perf_counter()
            frame = pd.read_csv(path, dtype=np.float64)
            times.append(time.perf_counter() - start)
            assert len(frame) == rows
        cpu = (time.process_time() - cpu) / 3
        t = float(np.median(times))
        note = f"{cpu:.2f} CPU s per parse = {size / cpu / 1e6:.0f} MB per CPU second"
        report.result(f"pandas/read_csv {size / 1e6:.0f} MB, {rows} x {cols} numeric", t, 3, size / t / 1e6, "MB/s",
                      note, text=f"pandas read_csv {size / 1e6:.0f} MB, {rows} x {cols}: {t:.4f} s (median of 3), "
                                 f"{size / t / 1e6:.0f} MB/s, {note}")

        # The same columns and a quoted text column (names with commas, some with a doubled quote).
        surnames = ["Müller", "Schmidt", "Dupont", 'O"Brien', "van der Berg", "Smith"]
        frame = pd.DataFrame(data, columns=[f"c{j}" for j in range(cols)])
        frame["name"] = [f"{surnames[i % len(surnames)]}, customer {i}" for i in range(rows)]
        quoted = os.path.join(d, "quoted.csv")
        frame.to_csv(quoted, index=False, float_format="%.6f", quoting=csv_module.QUOTE_MINIMAL)
        del frame
        size = os.path.getsize(quoted)
        dtypes = {f"c{j}": np.float64 for j in range(cols)}
        dtypes["name"] = str
        times = []
        cpu = time.process_time()
        for _ in range(3):
            start = time.perf_counter()
            parsed = pd.read_csv(quoted, dtype=dtypes)
            times.append(time.perf_counter() - start)
            assert len(parsed) == rows and parsed["name"][3] == 'O"Brien, customer 3'
        cpu = (time.process_time() - cpu) / 3
        t = float(np.median(times))
        note = f"{cpu:.2f} CPU s per parse = {size / cpu / 1e6:.0f} MB per CPU second"
        report.result(f"pandas/read_csv {size / 1e6:.0f} MB, {rows} x {cols} numeric + a quoted text column", t, 3,
                      size / t / 1e6, "MB/s", note,
                      text=f"pandas read_csv {size / 1e6:.0f} MB, {rows} x {cols} + quoted text: {t:.4f} s (median of 3), "
                           f"{size / t / 1e6:.0f} MB/s, {note}")


if __name__ == "__main__":
    main()
