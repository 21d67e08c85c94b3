"""Reference values for pom's contextual bandits from MABWiser's LinUCB.

Run from the repository root with a Python that has mabwiser and numpy:
    python3 scripts/reference/bandits.py
Writes Tests/OptimizerTests/Fixtures/bandits/mabwiser_linucb.json and laplace_logistic.json.

The data set: 240 seeded contexts with 4 features (the first is a constant 1), decisions over
18 arms (pom's channel x tone arms, every arm logged: MABWiser initialises an unlogged arm's
A_inv to l2*I rather than I/l2, which differs from the ridge posterior unless l2 = 1),
rewards linear in the context plus noise. MABWiser fits a disjoint ridge regression per arm
(A = l2*I + X'X, Xty = X'y, beta = A^-1 Xty) and scores x'beta + alpha*sqrt(x' A^-1 x).
The file holds A, Xty and beta per arm after `fit` on the first 160 rows and after a
`partial_fit` on the remaining 80, plus the expectations and predictions on 6 test contexts.
"""
import json
import os
from importlib.metadata import version

import numpy as np
from mabwiser.mab import MAB, LearningPolicy
from sklearn.linear_model import LogisticRegression

ALPHA, L2, SEED = 1.5, 0.7, 11
ARMS = list(range(18))

rng = np.random.default_rng(20261129)
n, d = 240, 4
contexts = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
decisions = rng.integers(0, 18, size=n)
true_theta = rng.normal(scale=0.5, size=(18, d))
rewards = np.einsum("ij,ij->i", contexts, true_theta[decisions]) + rng.normal(scale=0.3, size=n)
test_contexts = np.column_stack([np.ones(6), rng.normal(size=(6, d - 1))])


def state(mab):
    out = {}
    for arm in ARMS:
        model = mab._imp.arm_to_model[arm]
        out[str(arm)] = {"A": model.A.tolist(), "Xty": model.Xty.tolist(), "beta": model.beta.tolist()}
    return out


def scores(mab):
    exp = mab.predict_expectations(test_contexts)
    return [[float(row[arm]) for arm in ARMS] for row in exp]


mab = MAB(arms=ARMS, learning_policy=LearningPolicy.LinUCB(alpha=ALPHA, l2_lambda=L2), seed=SEED)
first = 160
mab.fit(decisions[:first].tolist(), rewards[:first], contexts[:first])
after_fit = {"arms": state(mab), "expectations": scores(mab),
             "predictions": [int(a) for a in mab.predict(test_contexts)]}
mab.partial_fit(decisions[first:].tolist(), rewards[first:], contexts[first:])
after_partial = {"arms": state(mab), "expectations": scores(mab),
                 "predictions": [int(a) for a in mab.predict(test_contexts)]}

fixture = {
    "source": f"mabwiser {version('mabwiser')} LearningPolicy.LinUCB, numpy {np.__version__}",
    "alpha": ALPHA, "l2": L2, "fit_rows": first,
    "contexts": contexts.tolist(), "decisions": decisions.tolist(), "rewards": rewards.tolist(),
    "test_contexts": test_contexts.tolist(),
    "after_fit": after_fit, "after_partial_fit": after_partial,
}
path = os.path.join("Tests", "OptimizerTests", "Fixtures", "bandits", "mabwiser_linucb.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path + ".tmp", "w") as f:
    json.dump(fixture, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", path)

# Laplace logistic arm (Chapelle & Li 2011): the mode of sum logloss + (l2/2)|beta|^2 is
# scikit-learn's LogisticRegression(C=1/l2, fit_intercept=False); the posterior precision is the
# Hessian there, X' diag(p(1-p)) X + l2*I.
L2_LOGISTIC = 2.0
m = 400
x = np.column_stack([np.ones(m), rng.normal(size=(m, 3))])
y = (rng.uniform(size=m) < 1 / (1 + np.exp(-(x @ np.array([-0.4, 1.1, -0.7, 0.3]))))).astype(float)
clf = LogisticRegression(C=1 / L2_LOGISTIC, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=1000)
clf.fit(x, y)
beta = clf.coef_[0]
prob = 1 / (1 + np.exp(-(x @ beta)))
precision = x.T @ (x * (prob * (1 - prob))[:, None]) + L2_LOGISTIC * np.eye(4)
logistic = {
    "source": f"scikit-learn {version('scikit-learn')} LogisticRegression(C=1/l2, fit_intercept=False, newton-cholesky)",
    "l2": L2_LOGISTIC, "contexts": x.tolist(), "labels": y.tolist(), "coefficients": beta.tolist(),
    "precision": precision.tolist(), "covariance": np.linalg.inv(precision).tolist(),
}
path = os.path.join("Tests", "OptimizerTests", "Fixtures", "bandits", "laplace_logistic.json")
with open(path + ".tmp", "w") as f:
    json.dump(logistic, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", path)
