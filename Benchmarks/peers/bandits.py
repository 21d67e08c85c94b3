"""Peers for pom-bench's `bandits` group: numpy's vectorised LinUCB, MABWiser's LinUCB and
(if installed) Vowpal Wabbit's cb_explore_adf through vowpal-wabbit-next, on the same shapes:
18 arms (channel x tone), 20 context features (the first a constant 1), seeded.

Run: python3 Benchmarks/peers/bandits.py [--json] [--quick]   (needs numpy and mabwiser; vowpal-wabbit-next optional)
Prints one line per measurement in pom-bench's units (decisions/s). Single decisions are timed one call at a
time and reported as pom-bench does: the median latency of one decision.
"""
import time
from importlib.metadata import version

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

from peerlib import Report, arguments, count_label

ARMS, D, ALPHA = 18, 20, 1.0
rng = np.random.default_rng(1)
report = Report("bandits", arguments(__doc__))


def measure(name, fn, count, runs=5):
    report.measure(name, fn, runs=runs, rate=lambda s: count / s, rate_unit="decisions/s")


def one_at_a_time(name, decide, examples, note):
    """Median latency of single calls (after a warm-up of up to 200), and the single-thread rate."""
    for e in examples[:200]:
        decide(e)
    times = []
    for e in examples:
        start = time.perf_counter()
        decide(e)
        times.append(time.perf_counter() - start)
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    report.result(name, p50, len(times), len(times) / sum(times), "decisions/s on 1 core",
                  f"p50 {p50 * 1e6:.1f} µs, p99 {p99 * 1e6:.1f} µs wall; {note}")


def contexts(n):
    return np.column_stack([np.ones(n), rng.standard_normal((n, D - 1))])


# A trained model: 50,000 logged rows over the 18 arms.
TRAIN = report.size(50_000, 10_000)
train_x = contexts(TRAIN)
train_arm = rng.integers(0, ARMS, size=TRAIN)
theta_true = 0.3 * rng.standard_normal((ARMS, D))
train_r = (rng.uniform(size=TRAIN) < 1 / (1 + np.exp(-np.einsum("ij,ij->i", train_x, theta_true[train_arm])))).astype(float)

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


n = report.size(1_000_000, 100_000)
x = contexts(n)
report.info(f"numpy {np.__version__}, mabwiser {version('mabwiser')}")
measure(f"numpy/batch LinUCB argmax, 18 arms x 20 features, {count_label(n)} contexts", lambda: numpy_linucb(x), n)

mab = MAB(arms=list(range(ARMS)), learning_policy=LearningPolicy.LinUCB(alpha=ALPHA, l2_lambda=1.0), seed=7)
mab.fit(train_arm.tolist(), train_r, train_x)
xm = x[:report.size(100_000, 10_000)]
measure(f"mabwiser/batch LinUCB predict, 18 arms x 20 features, {count_label(len(xm))} contexts", lambda: mab.predict(xm),
        len(xm), runs=3)
one = x[:report.size(2000, 200)]
one_at_a_time("mabwiser/one-at-a-time LinUCB predict, 18 arms x 20 features", lambda row: mab.predict(row[None, :]), one,
              "18 arms")

try:
    import vowpal_wabbit_next as vw
except ImportError:
    vw = None
if vw is not None:
    report.info(f"vowpal-wabbit-next {version('vowpal-wabbit-next')}")
    work = vw.Workspace(["--cb_explore_adf", "--epsilon", "0.1", "--quiet"])
    parser = vw.TextFormatParser(work)
    names = [f"f{j}" for j in range(D)]

    def shared(row):
        return "shared |s " + " ".join(f"{names[j]}:{row[j]:.6f}" for j in range(D))

    for i in range(report.size(5000, 1000)):
        row = train_x[i]
        lines = [shared(row)] + [(f"0:{-train_r[i]:.1f}:{1 / ARMS:.6f} " if g == train_arm[i] else "") + f"|a arm{g}"
                                 for g in range(ARMS)]
        work.learn_one([parser.parse_line(line) for line in lines])
    test = [[parser.parse_line(shared(r))] + [parser.parse_line(f"|a arm{g}") for g in range(ARMS)]
            for r in x[:report.size(2000, 200)]]
    one_at_a_time("vw/cb_explore_adf epsilon-greedy predict, 18 actions, 20 shared features (parsed examples)",
                  work.predict_one, test, "18 actions, examples parsed beforehand")
else:
    report.info("vowpal-wabbit-next is not installed: no Vowpal Wabbit figures")
