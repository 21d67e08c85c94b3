#!/usr/bin/env python3
"""Reference values for pom's off-policy estimators, from Open Bandit Pipeline 0.5.7 and scikit-learn.

Writes Tests/OptimizerTests/Fixtures/ope/:
  log.csv          a seeded synthetic log (columns action, position, reward, propensity, x0..x2), 2,000 rounds,
                   5 actions, 2 positions, exact logging propensities (a softmax policy)
  target.csv       the target policy's probabilities per logged round (columns position, p_0..p_4)
  predictions.csv  q_0..q_4: the reward model q(x, a) of scikit-learn's LogisticRegression(C = 1/lambda) on pom's
                   reward-model design, at each round's position; amount: a non-binary reward;
                   ridge_0..ridge_4: scikit-learn's Ridge(alpha = lambda) of amount on the same design
  expected.json    obp's InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting, DirectMethod and
                   DoublyRobust on the log, the target and the q above (all rounds and per position), and the
                   true value of the target policy in this synthetic world

pom's design for the reward model (PenalisedRewardModel) is [1, x, onehot(position), onehot(action),
onehot(action) (x) x]; scikit-learn gets the same columns without the constant and fits the intercept unpenalised,
so its objective is sum_i logloss_i + (lambda/2)||beta||^2 as pom's. The estimators are fed the q written here,
so pom's estimators can be compared with obp's to 1e-12.

obp 0.5.7 is installed without torch, and obp's package __init__ imports modules that import torch (its neural
policies); the OPE estimators used here are pure numpy. So this script puts a minimal placeholder module for torch
into sys.modules before `import obp`; nothing here calls into it.

Run from the repository root: python3 scripts/reference/ope.py
"""
import json
import os
import sys


class _Placeholder(type):
    """Stands in for torch and its submodules: any attribute is another placeholder class."""

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
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402

OUT = os.path.join("Tests", "OptimizerTests", "Fixtures", "ope")
SEED = 20261129
N, K, D, P = 2000, 5, 3, 2
L2 = 1.0


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def design(x, position, action):
    """pom's PenalisedRewardModel design without the constant column (scikit-learn adds the intercept)."""
    n = x.shape[0]
    pos = np.zeros((n, P))
    pos[np.arange(n), position] = 1
    act = np.zeros((n, K))
    act[np.arange(n), action] = 1
    inter = (act[:, :, None] * x[:, None, :]).reshape(n, K * D)  # action-major: action a, feature j
    return np.hstack([x, pos, act, inter])


def all_actions(model_predict, x, position):
    """q(x_i, a) for every action at each round's own position, n x K."""
    return np.column_stack([model_predict(design(x, position, np.full(len(x), a))) for a in range(K)])


def world(rng, n):
    """Contexts, positions, the logging and target policies and the true reward probabilities."""
    x = rng.normal(size=(n, D))
    position = rng.integers(0, P, size=n)
    logging = softmax(x @ LOGGING_W + 0.3 * position[:, None])
    target = softmax(1.5 * (x @ TARGET_W))
    true_q = 1 / (1 + np.exp(-(BIAS[None, :] + x @ THETA - 0.4 * position[:, None])))
    return x, position, logging, target, true_q


rng = np.random.default_rng(SEED)
LOGGING_W = rng.normal(scale=0.5, size=(D, K))
TARGET_W = rng.normal(size=(D, K))
THETA = rng.normal(scale=0.8, size=(D, K))
BIAS = rng.normal(loc=-1.0, scale=0.5, size=K)

x, position, logging, target, true_q = world(rng, N)
action = np.array([rng.choice(K, p=logging[i]) for i in range(N)])
pscore = logging[np.arange(N), action]
reward = (rng.uniform(size=N) < true_q[np.arange(N), action]).astype(float)
amount = reward * (20 + 5 * x[:, 0]) + rng.normal(size=N)

# The reward models, on pom's design.
X = design(x, position, action)
logit = LogisticRegression(C=1 / L2, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X, reward)
q_hat = all_actions(lambda z: logit.predict_proba(z)[:, 1], x, position)
ridge = Ridge(alpha=L2, fit_intercept=True, solver="cholesky").fit(X, amount)
q_ridge = all_actions(ridge.predict, x, position)

# The optimum must satisfy pom's objective's first-order condition.
beta = np.concatenate([[logit.intercept_[0]], logit.coef_[0]])
Z = np.hstack([np.ones((N, 1)), X])
grad = Z.T @ (1 / (1 + np.exp(-(Z @ beta))) - reward) + L2 * np.concatenate([[0], beta[1:]])
assert np.abs(grad).max() < 1e-8, f"logistic fit is not at the optimum: |grad| = {np.abs(grad).max()}"


def obp_estimates(rows):
    """obp's four estimators on the rounds in `rows` (action_dist has one slot per position)."""
    n = len(rows)
    action_dist = np.repeat(target[rows][:, :, None], P, axis=2)
    q = np.repeat(q_hat[rows][:, :, None], P, axis=2)
    common = dict(reward=reward[rows], action=action[rows], action_dist=action_dist, position=position[rows])
    out = {
        "ipw": InverseProbabilityWeighting().estimate_policy_value(pscore=pscore[rows], **common),
        "snipw": SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(pscore=pscore[rows], **common),
        "dm": DirectMethod().estimate_policy_value(estimated_rewards_by_reg_model=q, **common),
        "dr": DoublyRobust().estimate_policy_value(pscore=pscore[rows], estimated_rewards_by_reg_model=q, **common),
    }
    # Standard errors by pom's formulas (delta method for the ratio), from the same round terms as obp's.
    iw = target[rows, action[rows]] / pscore[rows]
    r = reward[rows]
    snipw = out["snipw"]
    terms = {
        "ipw": iw * r,
        "dm": DirectMethod()._estimate_round_rewards(estimated_rewards_by_reg_model=q, **common),
        "dr": DoublyRobust()._estimate_round_rewards(pscore=pscore[rows], estimated_rewards_by_reg_model=q, **common),
    }
    se = {name: float(np.std(t, ddof=1) / np.sqrt(n)) for name, t in terms.items()}
    se["snipw"] = float(np.sqrt(n / (n - 1) * np.sum(iw**2 * (r - snipw) ** 2)) / np.sum(iw))
    return {k: float(v) for k, v in out.items()} | {"n": n, "std_error": se}


# The true value of the target policy in this world: a large fresh sample of contexts.
big = world(np.random.default_rng(SEED + 1), 2_000_000)
true_value = float(np.mean(np.sum(big[3] * big[4], axis=1)))

os.makedirs(OUT, exist_ok=True)


def write_csv(name, header, columns, fmt):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(",".join(header) + "\n")
        for i in range(N):
            f.write(",".join(fmt(c[i]) for c in columns) + "\n")


write_csv("log.csv", ["action", "position", "reward", "propensity"] + [f"x{j}" for j in range(D)],
          [action, position, reward, pscore] + [x[:, j] for j in range(D)],
          lambda v: repr(int(v)) if float(v).is_integer() and abs(v) < 1e9 else repr(float(v)))
write_csv("target.csv", ["position"] + [f"p_{a}" for a in range(K)],
          [position] + [target[:, a] for a in range(K)],
          lambda v: repr(int(v)) if isinstance(v, (np.integer, int)) else repr(float(v)))
write_csv("predictions.csv", [f"q_{a}" for a in range(K)] + ["amount"] + [f"ridge_{a}" for a in range(K)],
          [q_hat[:, a] for a in range(K)] + [amount] + [q_ridge[:, a] for a in range(K)],
          lambda v: repr(float(v)))

expected = {
    "source": f"Open Bandit Pipeline {obp.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
              "scripts/reference/ope.py",
    "seed": SEED,
    "rounds": N,
    "actions": K,
    "positions": P,
    "l2": L2,
    "overall": obp_estimates(np.arange(N)),
    "by_position": {str(p): obp_estimates(np.flatnonzero(position == p)) for p in range(P)},
    "logged_mean_reward": float(reward.mean()),
    "true_target_value": true_value,
    "logistic": {"intercept": float(logit.intercept_[0]), "coefficients": [float(c) for c in logit.coef_[0]]},
}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print(json.dumps(expected["overall"]), "true value", true_value)
