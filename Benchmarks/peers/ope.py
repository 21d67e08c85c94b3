#!/usr/bin/env python3
"""Peer figures for the `ope` benchmark group: Open Bandit Pipeline 0.5.7's estimators and scikit-learn's logistic
regression on the same kind of data as Benchmarks/Sources/pom-bench/OPEBench.swift (1,000,000 logged rounds x 18
actions, 4 context features, softmax logging and target policies, Bernoulli rewards).

obp's package __init__ imports its torch-using modules (neural policies). The OPE estimators are pure numpy, so
when torch is not installed a minimal placeholder for torch goes into sys.modules before `import obp`.

Run: /path/to/venv/bin/python Benchmarks/peers/ope.py [--json] [--quick]
"""
import sys
import time

from peerlib import Report, arguments, count_label

report = Report("ope", arguments(__doc__))


class _Placeholder(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


try:
    import torch  # noqa: F401
    torch_note = f"torch {torch.__version__}"
except ImportError:
    for _name in ["torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils", "torch.utils.data"]:
        sys.modules.setdefault(_name, _Placeholder(_name, (), {}))
    torch_note = "torch not installed: a placeholder module stands in for it (the estimators do not use it)"

import numpy as np  # noqa: E402
import obp  # noqa: E402
import sklearn  # noqa: E402
from obp.ope import (  # noqa: E402
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
)
from sklearn.linear_model import LogisticRegression  # noqa: E402

N, K, D = report.size(1_000_000, 100_000), 18, 4
ROUNDS = count_label(N)


def measure(name, body, runs=5):
    return report.measure(name, body, runs=runs, rate=lambda s: N / s / 1e6, rate_unit="M rounds/s")


def once(name, body, note=None):
    """One timed run (the fits are too slow to repeat)."""
    start = time.perf_counter()
    result = body()
    seconds = time.perf_counter() - start
    report.result(name, seconds, 1, note=note(result) if note else None)
    return result


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(2026)
logging_w = rng.normal(scale=0.5, size=(D, K))
target_w = rng.normal(size=(D, K))
theta = rng.normal(scale=0.5, size=(D, K))
bias = rng.normal(loc=-1.5, scale=0.5, size=K)
x = rng.normal(size=(N, D))
p0 = softmax(x @ logging_w)
action = (rng.uniform(size=(N, 1)) < np.cumsum(p0, axis=1)).argmax(axis=1)
pscore = p0[np.arange(N), action]
reward = (rng.uniform(size=N) < 1 / (1 + np.exp(-(bias[action] + np.einsum("ij,ji->i", x, theta[:, action]))))).astype(float)
action_dist = softmax(x @ target_w)[:, :, None]

report.info(f"peers: obp {obp.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; {torch_note}")

# The reward model on pom's design [x, onehot(a), onehot(a) (x) x] (+ intercept), lambda = 1 (C = 1).
onehot = np.zeros((N, K))
onehot[np.arange(N), action] = 1
X = np.hstack([x, onehot, (onehot[:, :, None] * x[:, None, :]).reshape(N, K * D)])
model = once(f"sklearn/reward model: LogisticRegression(newton-cholesky) fit, {ROUNDS}x{X.shape[1] + 1} design",
             lambda: LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-8, max_iter=100).fit(X, reward),
             note=lambda m: f"{m.n_iter_[0]} iterations")
once(f"sklearn/reward model: LogisticRegression(lbfgs, tol=1e-6) fit, {ROUNDS}x{X.shape[1] + 1} design",
     lambda: LogisticRegression(C=1.0, solver="lbfgs", tol=1e-6, max_iter=1000).fit(X, reward),
     note=lambda m: f"{m.n_iter_[0]} iterations")
del X


def predict_all():
    out = np.empty((N, K))
    for a in range(K):
        oh = np.zeros((N, K))
        oh[:, a] = 1
        out[:, a] = model.predict_proba(np.hstack([x, oh, (oh[:, :, None] * x[:, None, :]).reshape(N, K * D)]))[:, 1]
    return out


q = once(f"sklearn/reward model: predict q(x, a) for {ROUNDS} rounds x {K} actions", predict_all)[:, :, None]

common = dict(reward=reward, action=action, action_dist=action_dist)
measure("obp/ipw: estimate_policy_value", lambda: InverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common),
        runs=9)
measure("obp/snipw: estimate_policy_value",
        lambda: SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common), runs=9)
measure("obp/dm: estimate_policy_value", lambda: DirectMethod().estimate_policy_value(estimated_rewards_by_reg_model=q, **common),
        runs=9)
measure("obp/dr: estimate_policy_value",
        lambda: DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common), runs=9)
measure("obp/all four estimate_policy_value", lambda: [
    InverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common),
    SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common),
    DirectMethod().estimate_policy_value(estimated_rewards_by_reg_model=q, **common),
    DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common)], runs=5)
measure("obp/ipw: estimate_interval, 100 bootstrap resamples", lambda: InverseProbabilityWeighting().estimate_interval(
    pscore=pscore, n_bootstrap_samples=100, random_state=1, **common), runs=3)
dr = DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common)
report.info(f"obp/check: DR estimate {dr:.4f}")
