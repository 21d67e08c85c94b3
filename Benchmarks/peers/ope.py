#!/usr/bin/env python3
"""Peer figures for the `ope` benchmark group: Open Bandit Pipeline 0.5.7's estimators and scikit-learn's logistic
regression on the same kind of data as Benchmarks/Sources/pom-bench/OPEBench.swift (1,000,000 logged rounds x 18
actions, 4 context features, softmax logging and target policies, Bernoulli rewards).

obp is installed without torch and its package __init__ imports torch-using modules (neural policies); the OPE
estimators are pure numpy, so a minimal placeholder for torch goes into sys.modules before `import obp`.

Run: /path/to/venv/bin/python Benchmarks/peers/ope.py
"""
import statistics
import sys
import time


class _Placeholder(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


for _name in ["torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils", "torch.utils.data"]:
    sys.modules.setdefault(_name, _Placeholder(_name, (), {}))

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

N, K, D = 1_000_000, 18, 4


def measure(name, body, runs=5):
    body()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        body()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    print(f"ope-peer/{name}: {median:.4f} s (median of {runs}), {N / median / 1e6:.3g} M rounds/s", flush=True)
    return median


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

print(f"peers: obp {obp.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}", flush=True)

# The reward model on pom's design [x, onehot(a), onehot(a) (x) x] (+ intercept), lambda = 1 (C = 1).
onehot = np.zeros((N, K))
onehot[np.arange(N), action] = 1
X = np.hstack([x, onehot, (onehot[:, :, None] * x[:, None, :]).reshape(N, K * D)])
model = None


def fit():
    global model
    model = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-8, max_iter=100).fit(X, reward)


t = time.perf_counter()
fit()
print(f"ope-peer/reward model: LogisticRegression(newton-cholesky) fit, {N}x{X.shape[1] + 1} design: "
      f"{time.perf_counter() - t:.4f} s (1 run), {model.n_iter_[0]} iterations", flush=True)
t = time.perf_counter()
sk_lbfgs = LogisticRegression(C=1.0, solver="lbfgs", tol=1e-6, max_iter=1000).fit(X, reward)
print(f"ope-peer/reward model: LogisticRegression(lbfgs, tol=1e-6) fit: {time.perf_counter() - t:.4f} s (1 run)", flush=True)
del X


def predict_all():
    out = np.empty((N, K))
    for a in range(K):
        oh = np.zeros((N, K))
        oh[:, a] = 1
        out[:, a] = model.predict_proba(np.hstack([x, oh, (oh[:, :, None] * x[:, None, :]).reshape(N, K * D)]))[:, 1]
    return out


t = time.perf_counter()
q = predict_all()
print(f"ope-peer/reward model: predict q(x, a) for {N} rounds x {K} actions: {time.perf_counter() - t:.4f} s (1 run)", flush=True)
q = q[:, :, None]

common = dict(reward=reward, action=action, action_dist=action_dist)
measure("ipw: estimate_policy_value", lambda: InverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common), runs=9)
measure("snipw: estimate_policy_value",
        lambda: SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common), runs=9)
measure("dm: estimate_policy_value", lambda: DirectMethod().estimate_policy_value(estimated_rewards_by_reg_model=q, **common), runs=9)
measure("dr: estimate_policy_value",
        lambda: DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common), runs=9)
measure("all four estimate_policy_value", lambda: [
    InverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common),
    SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(pscore=pscore, **common),
    DirectMethod().estimate_policy_value(estimated_rewards_by_reg_model=q, **common),
    DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common)], runs=5)
measure("ipw: estimate_interval, 100 bootstrap resamples", lambda: InverseProbabilityWeighting().estimate_interval(
    pscore=pscore, n_bootstrap_samples=100, random_state=1, **common), runs=3)
dr = DoublyRobust().estimate_policy_value(pscore=pscore, estimated_rewards_by_reg_model=q, **common)
print(f"ope-peer/check: DR estimate {dr:.4f}", flush=True)
