"""Peers for pom-bench's `bandits` group: numpy's vectorised LinUCB, MABWiser's LinUCB and
(if installed) Vowpal Wabbit's cb_explore_adf through vowpal-wabbit-next, on the same shapes:
18 arms (channel x tone), 20 context features (the first a constant 1), seeded.

Run: python3 Benchmarks/peers/bandits.py   (needs numpy and mabwiser; vowpal-wabbit-next optional)
Prints one line per measurement in pom-bench's units (decisions/s).
"""
import statistics
import time
from importlib.metadata import version

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

ARMS, D, ALPHA = 18, 20, 1.0
rng = np.random.default_rng(1)


def measure(name, fn, count, runs=5, unit="decisions/s"):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"{name}: {med:.4f} s (median of {runs}), {count / med:.3g} {unit}", flush=True)


def contexts(n):
    return np.column_stack([np.ones(n), rng.standard_normal((n, D - 1))])


# A trained model: 50,000 logged rows over the 18 arms.
train_x = contexts(50_000)
train_arm = rng.integers(0, ARMS, size=50_000)
theta_true = 0.3 * rng.standard_normal((ARMS, D))
train_r = (rng.uniform(size=50_000) < 1 / (1 + np.exp(-np.einsum("ij,ij->i", train_x, theta_true[train_arm])))).astype(float)

A_inv = np.empty((ARMS, D, D))
theta = np.empty((ARMS, D))
for g in range(ARMS):
    xg = train_x[train_arm == g]
    A = np.eye(D) + xg.T @ xg
    A_inv[g] = np.linalg.inv(A)
    theta[g] = A_inv[g] @ (xg.T @ train_r[train_arm == g])


def numpy_linucb(x):
    scores = np.empty((x.shape[0], ARMS))
    for g in range(ARMS):
        xa = x @ A_inv[g]
        scores[:, g] = x @ theta[g] + ALPHA * np.sqrt(np.einsum("ij,ij->i", xa, x))
    return scores.argmax(axis=1)


n = 1_000_000
x = contexts(n)
print("numpy", np.__version__, "mabwiser", version("mabwiser"))
measure("numpy/batch LinUCB argmax, 18 arms x 20 features, 1M contexts", lambda: numpy_linucb(x), n)

mab = MAB(arms=list(range(ARMS)), learning_policy=LearningPolicy.LinUCB(alpha=ALPHA, l2_lambda=1.0), seed=7)
mab.fit(train_arm.tolist(), train_r, train_x)
xm = x[:100_000]
measure("mabwiser/batch LinUCB predict, 18 arms x 20 features, 100k contexts", lambda: mab.predict(xm), len(xm), runs=3)
one = x[:2000]
measure("mabwiser/one-at-a-time LinUCB predict, 18 arms x 20 features", lambda: [mab.predict(one[i:i + 1]) for i in range(len(one))],
        len(one), runs=3)

try:
    import vowpal_wabbit_next as vw
except ImportError:
    vw = None
if vw is not None:
    work = vw.Workspace(["--cb_explore_adf", "--epsilon", "0.1", "--quiet"])
    parser = vw.TextFormatParser(work)
    names = [f"f{j}" for j in range(D)]

    def shared(row):
        return "shared |s " + " ".join(f"{names[j]}:{row[j]:.6f}" for j in range(D))

    for i in range(5000):
        row = train_x[i]
        lines = [shared(row)] + [(f"0:{-train_r[i]:.1f}:{1 / ARMS:.6f} " if g == train_arm[i] else "") + f"|a arm{g}"
                                 for g in range(ARMS)]
        work.learn_one([parser.parse_line(line) for line in lines])
    test = [[parser.parse_line(shared(r))] + [parser.parse_line(f"|a arm{g}") for g in range(ARMS)] for r in x[:2000]]
    measure(f"vowpal-wabbit-next {version('vowpal-wabbit-next')}/cb_explore_adf epsilon-greedy predict, 18 actions, 20 shared features "
            "(parsed examples)", lambda: [work.predict_one(e) for e in test], len(test), runs=3)
