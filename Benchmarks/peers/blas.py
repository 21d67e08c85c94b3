"""numpy's figures for the operations of pom-bench's `blas` group, on this machine.

Run with a numpy from pip (it bundles its own OpenBLAS): python3 Benchmarks/peers/blas.py [--json] [--quick]
Prints one line per operation in the same units as pom-bench, plus the kernel numpy's OpenBLAS runs.
"""
import numpy as np

from peerlib import Report, arguments, count_label

try:
    from threadpoolctl import threadpool_info
    blas = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} threads={i.get('num_threads')}"
            for i in threadpool_info() if i.get("user_api") == "blas"]
except ImportError:  # threadpoolctl is optional
    blas = ["(install threadpoolctl to see numpy's BLAS kernel)"]

report = Report("blas", arguments(__doc__))
report.info(f"numpy {np.__version__} BLAS: " + "; ".join(blas))
rng = np.random.default_rng(1)
n = report.size(4096, 1024)
a = np.asfortranarray(rng.standard_normal((n, n)))
b = np.asfortranarray(rng.standard_normal((n, n)))
report.measure(f"numpy/gemm {n}^3", lambda: a @ b, runs=3, rate=lambda s: 2 * n**3 / s / 1e9, rate_unit="GFLOP/s")

rows, p = report.size(1_000_000, 100_000), 64
shape = f"{count_label(rows)}x{p}"
x = np.asfortranarray(rng.standard_normal((rows, p)))
w = rng.uniform(size=rows) + 0.5
nbytes = rows * p * 8
report.measure(f"numpy/stream X {shape} (sum of all elements)", lambda: x.sum(), rate=lambda s: nbytes / s / 1e9,
               rate_unit="GB/s")
report.measure(f"numpy/gram X^T W X {shape}", lambda: x.T @ (w[:, None] * x), rate=lambda s: rows * p * p / s / 1e9,
               rate_unit="GFLOP/s (n p^2)")
report.measure(f"numpy/gram X^T X {shape}", lambda: x.T @ x, rate=lambda s: rows * p * p / s / 1e9,
               rate_unit="GFLOP/s (n p^2)")
beta = rng.standard_normal(p)
report.measure(f"numpy/gemv X beta {shape}", lambda: x @ beta, rate=lambda s: nbytes / s / 1e9, rate_unit="GB/s")
y = (rng.uniform(size=rows) < 0.4).astype(float)


def gradient():
    z = x @ beta
    return x.T @ (1 / (1 + np.exp(-z)) - y)


report.measure(f"numpy/fused logistic gradient X^T(sigma(X beta) - y) {shape}", gradient,
               rate=lambda s: nbytes / s / 1e9, rate_unit="GB/s of X", note="two matrix-vector products and exp")
m = rng.standard_normal((512, 512))
spd = m.T @ m + 512 * np.eye(512)
report.measure("numpy/cholesky 512", lambda: np.linalg.cholesky(spd), runs=20, rate=lambda s: 512**3 / 3 / s / 1e9,
               rate_unit="GFLOP/s")
