"""numpy's figures for the operations of pom-bench's `blas` group, on this machine.

Run with a numpy from pip (it bundles its own OpenBLAS): python3 Benchmarks/peers/blas.py
Prints one line per operation in the same units as pom-bench, plus the kernel numpy's OpenBLAS runs.
"""
import statistics
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info
    blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}"
            for i in threadpool_info() if i.get("user_api") == "blas"]
except ImportError:  # threadpoolctl is optional
    blas = ["(install threadpoolctl to see numpy's BLAS kernel)"]


def measure(name, fn, runs=5, rate=None, unit=""):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    extra = f", {rate(med):.3g} {unit}" if rate else ""
    print(f"numpy/{name}: {med:.4f} s (median of {runs}){extra}", flush=True)


print("numpy", np.__version__, "BLAS:", "; ".join(blas))
rng = np.random.default_rng(1)
n = 4096
a = np.asfortranarray(rng.standard_normal((n, n)))
b = np.asfortranarray(rng.standard_normal((n, n)))
measure("gemm 4096^3", lambda: a @ b, runs=3, rate=lambda s: 2 * n**3 / s / 1e9, unit="GFLOP/s")

rows, p = 1_000_000, 64
x = np.asfortranarray(rng.standard_normal((rows, p)))
w = rng.uniform(size=rows) + 0.5
nbytes = rows * p * 8
measure("stream X 1Mx64 (sum of all elements)", lambda: x.sum(), rate=lambda s: nbytes / s / 1e9, unit="GB/s")
measure("gram X^T W X 1Mx64", lambda: x.T @ (w[:, None] * x), rate=lambda s: rows * p * p / s / 1e9, unit="GFLOP/s (n p^2)")
measure("gram X^T X 1Mx64", lambda: x.T @ x, rate=lambda s: rows * p * p / s / 1e9, unit="GFLOP/s (n p^2)")
beta = rng.standard_normal(p)
measure("gemv X beta 1Mx64", lambda: x @ beta, rate=lambda s: nbytes / s / 1e9, unit="GB/s")
y = (rng.uniform(size=rows) < 0.4).astype(float)


def gradient():
    z = x @ beta
    return x.T @ (1 / (1 + np.exp(-z)) - y)


measure("fused logistic gradient X^T(sigma(X beta) - y) 1Mx64", gradient, rate=lambda s: nbytes / s / 1e9, unit="GB/s of X")
m = rng.standard_normal((512, 512))
spd = m.T @ m + 512 * np.eye(512)
measure("cholesky 512", lambda: np.linalg.cholesky(spd), runs=20, rate=lambda s: 512**3 / 3 / s / 1e9, unit="GFLOP/s")
