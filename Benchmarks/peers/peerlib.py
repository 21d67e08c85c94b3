"""What every peer script shares: its command line (--json, --quick) and how it reports a figure.

By default a peer prints one free-form text line per figure. With --json it prints one JSON object per line
instead, the form scripts/bench reads:

    {"group", "name", "seconds", "runs", "rate", "rate_unit", "note"}

`name` starts with the peer (`numpy/`, `sklearn/`, `obp/`, ...); `seconds` is the median wall time over `runs`
(for single decisions: the median latency of one decision over `runs` decisions, as pom-bench reports it);
`rate` and `rate_unit` are optional. Header lines (versions, kernels) become {"info": "..."} under --json.
--quick runs on about a tenth of the data, the sizes `pom-bench --quick` uses.
"""
import argparse
import json
import statistics
import time


def arguments(description, extra=None):
    """Parses --json, --quick and the script's own options (`extra(parser)` adds them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    parser.add_argument("--quick", action="store_true", help="about a tenth of the data, as pom-bench --quick")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def count_label(n):
    """A count as the benchmark names spell it (1M, 1.5M, 100k, 4096), the same rule as pom-bench."""
    def trim(x):
        return str(int(x)) if x == int(x) else f"{x:.1f}"
    if n >= 1_000_000 and n % 100_000 == 0:
        return trim(n / 1e6) + "M"
    if n >= 10_000 and n % 1_000 == 0:
        return trim(n / 1e3) + "k"
    return str(n)


class Report:
    """Prints the figures of one benchmark group as text or JSON lines."""

    def __init__(self, group, args):
        self.group = group
        self.json = args.json
        self.quick = args.quick

    def size(self, full, quick):
        """`full` normally, `quick` under --quick."""
        return quick if self.quick else full

    def runs(self, runs):
        """The number of timed runs: `runs`, at most 3 under --quick (as pom-bench)."""
        return min(runs, 3) if self.quick else runs

    def info(self, text):
        if self.json:
            print(json.dumps({"group": self.group, "info": text}), flush=True)
        else:
            print(text, flush=True)

    def result(self, name, seconds, runs, rate=None, rate_unit=None, note=None, text=None):
        """One figure. `text` is the line printed without --json (by default built from the figures)."""
        if self.json:
            print(json.dumps({"group": self.group, "name": name, "seconds": seconds, "runs": runs,
                              "rate": rate, "rate_unit": rate_unit if rate is not None else None, "note": note}),
                  flush=True)
            return
        if text is None:
            text = f"{name}: {seconds:.4f} s (median of {runs})"
            if rate is not None:
                text += f", {rate:.3g} {rate_unit}"
            if note:
                text += f" — {note}"
        print(text, flush=True)

    def measure(self, name, fn, runs=5, rate=None, rate_unit=None, note=None):
        """Runs `fn` once to warm up, then `runs` times; reports the median. `rate(seconds)` gives the rate."""
        runs = self.runs(runs)
        fn()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        self.result(name, median, runs, rate(median) if rate else None, rate_unit, note)
        return median
