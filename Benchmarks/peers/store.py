"""Peer for pom-bench's `store` group: the same 1M event rows (same columns, keys and
constraints as pom's schema) inserted with Python's sqlite3 `executemany` in one transaction
(WAL, synchronous=NORMAL, foreign keys on) and, when POM_BENCH_POSTGRES_URL is set, with
psql's `\\copy` into a plain table. Prints one line per figure, like pom-bench.

Run from the repository root: python3 Benchmarks/peers/store.py [--json] [--quick]
"""
import os
import random
import sqlite3
import subprocess
import tempfile
import time

from peerlib import Report, arguments, count_label

REPORT = Report("store", arguments(__doc__))
N = REPORT.size(1_000_000, 100_000)
CUSTOMERS = REPORT.size(20_000, 2_000)
START = 1_767_571_200_000_000


def workload():
    rng = random.Random(1)
    kinds = ["delivered", "opened", "clicked", "page_visit", "bounced_soft", "payment"]
    customers = [(f"C{c:07d}", "de-DE", "DE", "Europe/Berlin", None, START) for c in range(CUSTOMERS)]
    invoices = [(f"C{c:07d}-I0", f"C{c:07d}", 10_000, "EUR", "2026-01-05", "2026-01-19", "open", None, None, None)
                for c in range(CUSTOMERS)]
    events = []
    for e in range(N):
        cid = f"C{rng.randrange(CUSTOMERS):07d}"
        kind = kinds[rng.randrange(len(kinds))]
        pay = kind == "payment"
        events.append((f"E{e:09d}", cid, cid + "-I0", kind, None, START + e * 1_000_000,
                       10_000 if pay else None, None, None if pay else cid + "-P1", "EUR" if pay else None, None,
                       f"P{e:09d}" if pay else None, "mailbox_full" if kind == "bounced_soft" else None,
                       "link" if kind == "page_visit" else None))
    return customers, invoices, events


SCHEMA = """
CREATE TABLE customers (id TEXT NOT NULL PRIMARY KEY, locale TEXT NOT NULL, country TEXT NOT NULL,
  time_zone TEXT NOT NULL, preferred_channel TEXT, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE invoices (id TEXT NOT NULL, customer_id TEXT NOT NULL REFERENCES customers (id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0), currency TEXT NOT NULL, issue_date TEXT NOT NULL,
  due_date TEXT NOT NULL, status TEXT NOT NULL, flow_name TEXT, flow_version INTEGER, step INTEGER,
  PRIMARY KEY (customer_id, id)) WITHOUT ROWID;
CREATE TABLE events (id TEXT NOT NULL, customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, kind TEXT NOT NULL,
  message_id TEXT, occurred_at INTEGER NOT NULL, amount_minor INTEGER CHECK (amount_minor >= 0), channel TEXT,
  contact_point_id TEXT, currency TEXT, installments INTEGER, payment_id TEXT, reason TEXT, via TEXT,
  PRIMARY KEY (customer_id, id),
  FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)) WITHOUT ROWID;
"""

COLUMNS = ["id", "customer_id", "invoice_id", "kind", "message_id", "occurred_at", "amount_minor", "channel",
           "contact_point_id", "currency", "installments", "payment_id", "reason", "via"]


def sqlite_run(customers, invoices, events):
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(os.path.join(d, "peer.sqlite"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?)", customers)
        db.executemany("INSERT INTO invoices VALUES (?,?,?,?,?,?,?,?,?,?)", invoices)
        db.execute("COMMIT")
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
        sql = (f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
               f"ON CONFLICT (customer_id, id) DO UPDATE SET {updates}")
        t0, c0 = time.perf_counter(), time.process_time()
        db.execute("BEGIN")
        db.executemany(sql, events)
        db.execute("COMMIT")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        db.close()
        return elapsed, cpu


def server_cpu_seconds(url):
    """CPU seconds of the local PostgreSQL server of `url` (its postmaster, found by `-p PORT`,
    and the processes it started), or None when it does not run on this machine."""
    authority = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    port = authority.rsplit(":", 1)[1] if ":" in authority else "5432"
    stats, postmaster = {}, None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
            fields = stat[stat.rindex(")") + 2:].split()
            stats[int(pid)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            if postmaster is None and "(postgres)" in stat:
                args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                if b"-p" in args and args.index(b"-p") + 1 < len(args) and args[args.index(b"-p") + 1] == port.encode():
                    postmaster = int(pid)
        except (OSError, ValueError, IndexError):
            continue
    if postmaster is None:
        return None
    ticks = stats[postmaster][1] + sum(t for p, (pp, t) in stats.items() if pp == postmaster)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_run(url, events):
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "events.tsv")
        with open(path, "w") as f:
            for row in events:
                f.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        ddl = ("DROP TABLE IF EXISTS peer_events; CREATE TABLE peer_events (id text COLLATE \"C\" NOT NULL, "
               "customer_id text COLLATE \"C\" NOT NULL, invoice_id text NOT NULL, kind text NOT NULL, message_id text, "
               "occurred_at bigint NOT NULL, amount_minor bigint, channel text, contact_point_id text, currency text, "
               "installments bigint, payment_id text, reason text, via text, PRIMARY KEY (customer_id, id));")
        subprocess.run(["psql", "-q", url, "-c", ddl], check=True, env=quiet)
        t0, s0 = time.perf_counter(), server_cpu_seconds(url)
        subprocess.run(["psql", "-q", url, "-c", f"\\copy peer_events FROM '{path}'"], check=True, env=quiet)
        elapsed, s1 = time.perf_counter() - t0, server_cpu_seconds(url)
        subprocess.run(["psql", "-q", url, "-c", "DROP TABLE peer_events"], check=True, env=quiet)
        return elapsed, (s1 - s0 if s0 is not None and s1 is not None else None)


def main():
    customers, invoices, events = workload()
    runs = [sqlite_run(customers, invoices, events) for _ in range(3)]
    m = sorted(t for t, _ in runs)[1]
    cpu = sum(c for _, c in runs) / len(runs)
    REPORT.result(f"python sqlite3/executemany {count_label(N)} event rows (one transaction)", m, 3, N / m, "rows/s",
                  f"sqlite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL, foreign keys on, upsert",
                  text=f"peer/python sqlite3 executemany {count_label(N)} event rows: {m:.4f} s (median of 3), "
                       f"{cpu:.4f} CPU s/run, {N / m:.3g} rows/s")
    url = os.environ.get("POM_BENCH_POSTGRES_URL")
    if url:
        runs = [postgres_run(url, events) for _ in range(3)]
        m = sorted(t for t, _ in runs)[1]
        server = [c for _, c in runs if c is not None]
        cpu = f", {sum(server) / len(server):.4f} server CPU s/run" if server else ""
        REPORT.result(f"psql/\\copy {count_label(N)} event rows", m, 3, N / m, "rows/s",
                      "plain table with the primary key, no upsert",
                      text=f"peer/psql \\copy {count_label(N)} event rows: {m:.4f} s (median of 3){cpu}, {N / m:.3g} rows/s")
    else:
        REPORT.info("POM_BENCH_POSTGRES_URL is not set: no PostgreSQL figures")


if __name__ == "__main__":
    main()
