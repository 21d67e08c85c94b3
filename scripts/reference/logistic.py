#!/usr/bin/env python3
"""Reference values for pom's logistic regression (Tests/OptimizerTests/LogisticRegressionTests.swift).

Run from the repository root with the peers' environment (numpy, scipy, statsmodels, scikit-learn):
    python3 scripts/reference/logistic.py
Writes seeded data sets (CSV: label y, features, optional weight w) and their reference fits (JSON)
to Tests/OptimizerTests/Fixtures/logistic/.

Objective (pom's, SPEC section 4): f(b) = sum_i w_i * logloss_i + (lam/2) * ||b without intercept||^2.
- Unpenalised fits: statsmodels Logit (Newton), or GLM Binomial with freq_weights when weighted:
  coefficients, standard errors (bse), log-likelihood (llf).
- Penalised fits: scikit-learn LogisticRegression(C=1/lam, solver='lbfgs', tol tiny), whose lbfgs solver
  leaves the intercept unpenalised; the script checks that against the exact optimum of f found by
  Newton's method in numpy (quadratic convergence to rounding) and pins the exact optimum. Standard
  errors there are sqrt(diag(H^-1)) of the penalised Hessian at that optimum.
"""
import json
import os
import sys
import warnings

import numpy as np
import sklearn
import statsmodels
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

OUT = os.path.join("Tests", "OptimizerTests", "Fixtures", "logistic")


def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


def objective(X, y, w, lam, b):
    z = X @ b
    loss = np.sum(w * (np.logaddexp(0, z) - y * z))
    return loss + 0.5 * lam * np.sum(b[1:] ** 2)


def exact_optimum(X, y, w, lam):
    """Newton's method on f to rounding level; returns (b, H) with H the Hessian at b."""
    p = X.shape[1]
    b = np.zeros(p)
    pen = np.full(p, lam)
    pen[0] = 0.0
    for _ in range(100):
        z = X @ b
        s = sigmoid(z)
        g = X.T @ (w * (s - y)) + pen * b
        H = (X * (w * s * (1 - s))[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(H, g)
        b = b - step
        if np.max(np.abs(step)) < 1e-15 * (1 + np.max(np.abs(b))):
            break
    z = X @ b
    s = sigmoid(z)
    H = (X * (w * s * (1 - s))[:, None]).T @ X + np.diag(pen)
    return b, H


def scaled_condition(H):
    d = np.sqrt(np.diag(H))
    ev = np.linalg.eigvalsh(H / np.outer(d, d))
    return float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")


def write_csv(name, y, F, names, w=None):
    cols = ["y"] + names + (["w"] if w is not None else [])
    with open(os.path.join(OUT, name), "w") as f:
        f.write(",".join(cols) + "\n")
        for i in range(len(y)):
            row = [repr(float(int(y[i])))[:-2]] + [repr(float(v)) for v in F[i]]
            if w is not None:
                row.append(repr(float(w[i])))
            f.write(",".join(row) + "\n")


def statsmodels_fit(X, y, w=None):
    if w is None:
        r = sm.Logit(y, X).fit(method="newton", tol=1e-14, maxiter=100, disp=0)
        source = "statsmodels %s Logit(method='newton')" % statsmodels.__version__
    else:
        r = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14, maxiter=100)
        source = "statsmodels %s GLM(Binomial, freq_weights=w)" % statsmodels.__version__
    return {"intercept": float(r.params[0]), "coefficients": [float(v) for v in r.params[1:]],
            "intercept_standard_error": float(r.bse[0]), "standard_errors": [float(v) for v in r.bse[1:]],
            "log_likelihood": float(r.llf), "source": source}


def penalised_fit(X, y, w, lam):
    b, H = exact_optimum(X, y, w, lam)
    clf = LogisticRegression(C=1.0 / lam, solver="lbfgs", tol=1e-12, max_iter=100000)
    clf.fit(X[:, 1:], y, sample_weight=w)
    sk = np.concatenate([clf.intercept_, clf.coef_[0]])
    gap = float(np.max(np.abs(sk - b)))
    # scikit-learn's optimum is the same point (the intercept is unpenalised by its lbfgs solver).
    assert gap < 1e-5, f"scikit-learn differs from the exact optimum by {gap}"
    se = np.sqrt(np.diag(np.linalg.inv(H)))
    z = X @ b
    return {"intercept": float(b[0]), "coefficients": [float(v) for v in b[1:]],
            "intercept_standard_error": float(se[0]), "standard_errors": [float(v) for v in se[1:]],
            "log_likelihood": float(-np.sum(w * (np.logaddexp(0, z) - y * z))),
            "objective": float(objective(X, y, w, lam, b)),
            "sklearn_intercept": float(sk[0]), "sklearn_coefficients": [float(v) for v in sk[1:]],
            "sklearn_max_abs_difference": gap,
            "source": "exact optimum by Newton in numpy; equals scikit-learn %s LogisticRegression(C=1/lambda, solver='lbfgs') "
                      "to %.1e" % (sklearn.__version__, gap)}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    sets = {}

    # 1. plain: mixed feature types, 2,000 rows.
    n = 2000
    F = np.column_stack([rng.normal(0, 1, n), rng.normal(2, 3, n), (rng.random(n) < 0.3).astype(float),
                         rng.uniform(-1, 1, n), rng.normal(0, 1, n)])
    names = ["amount", "days_overdue", "email_valid", "prior_late", "noise"]
    X = np.column_stack([np.ones(n), F])
    beta = np.array([-0.4, 0.8, -0.25, 1.1, 0.6, 0.0])
    y = (rng.random(n) < sigmoid(X @ beta)).astype(float)
    write_csv("plain.csv", y, F, names)
    ones = np.ones(n)
    entry = {"file": "plain.csv", "features": names, "unpenalised": statsmodels_fit(X, y),
             "l2": {str(lam): penalised_fit(X, y, ones, lam) for lam in (1.0, 10.0)}}
    entry["unpenalised"]["objective"] = -entry["unpenalised"]["log_likelihood"]
    entry["unpenalised"]["condition_number"] = scaled_condition(exact_optimum(X, y, ones, 0.0)[1])
    sets["plain"] = entry

    # 2. weighted: importance-type weights, some zero.
    n = 1500
    F = np.column_stack([rng.normal(0, 1, n), rng.normal(0, 1, n), (rng.random(n) < 0.5).astype(float)])
    names = ["a", "b", "c"]
    X = np.column_stack([np.ones(n), F])
    y = (rng.random(n) < sigmoid(X @ np.array([0.3, -0.7, 0.5, -1.0]))).astype(float)
    w = rng.uniform(0.2, 3.0, n)
    w[rng.random(n) < 0.05] = 0.0
    write_csv("weighted.csv", y, F, names, w)
    entry = {"file": "weighted.csv", "features": names, "weight": "w", "unpenalised": statsmodels_fit(X, y, w),
             "l2": {"1.0": penalised_fit(X, y, w, 1.0)}}
    sets["weighted"] = entry

    # 3. nearly collinear: c = a + b + 1e-4 noise (fits, with an ill-conditioning warning).
    n = 3000
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    c = a + b + 1e-4 * rng.normal(0, 1, n)
    F = np.column_stack([a, b, c, rng.normal(0, 1, n)])
    names = ["a", "b", "c", "d"]
    X = np.column_stack([np.ones(n), F])
    y = (rng.random(n) < sigmoid(X @ np.array([0.1, 0.5, -0.5, 0.3, 0.8]))).astype(float)
    write_csv("near_collinear.csv", y, F, names)
    entry = {"file": "near_collinear.csv", "features": names, "unpenalised": statsmodels_fit(X, y),
             "condition_number": scaled_condition(exact_optimum(X, y, np.ones(n), 0.0)[1])}
    sets["near_collinear"] = entry

    # 4. exactly collinear: c = a - 2 b (error naming a, b, c); with lambda = 1 the optimum exists.
    n = 1000
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    F = np.column_stack([a, b, a - 2 * b, rng.normal(0, 1, n)])
    names = ["a", "b", "c", "d"]
    X = np.column_stack([np.ones(n), F])
    y = (rng.random(n) < sigmoid(X @ np.array([0.2, 0.7, 0.1, 0.0, -0.5]))).astype(float)
    write_csv("collinear.csv", y, F, names)
    sets["collinear"] = {"file": "collinear.csv", "features": names, "collinear_columns": ["a", "b", "c"],
                         "l2": {"1.0": penalised_fit(X, y, np.ones(n), 1.0)}}

    # 5. quasi-separated: every row with flag = 1 has y = 1; the rest overlap.
    n = 800
    x = rng.normal(0, 1, n)
    flag = (rng.random(n) < 0.15).astype(float)
    y = (rng.random(n) < sigmoid(0.3 + 0.9 * x)).astype(float)
    y[flag == 1] = 1.0
    F = np.column_stack([x, flag])
    write_csv("quasi_separated.csv", y, F, ["x", "flag"])
    X = np.column_stack([np.ones(n), F])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0, warn_convergence=False)
    sets["quasi_separated"] = {"file": "quasi_separated.csv", "features": ["x", "flag"], "diverging": ["flag"],
                               "statsmodels_flag_coefficient": float(r.params[2]),
                               "l2": {"1.0": penalised_fit(X, y, np.ones(n), 1.0)}}

    # 6. completely separated: y = 1 exactly when x1 + x2 > 0.
    n = 400
    F = rng.normal(0, 1, (n, 2))
    y = (F[:, 0] + F[:, 1] > 0).astype(float)
    write_csv("separated.csv", y, F, ["x1", "x2"])
    sets["separated"] = {"file": "separated.csv", "features": ["x1", "x2"]}

    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"generated_by": "scripts/reference/logistic.py", "numpy": np.__version__,
                   "statsmodels": statsmodels.__version__, "scikit-learn": sklearn.__version__, "sets": sets},
                  f, indent=1)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
