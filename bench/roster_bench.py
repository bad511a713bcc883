"""Roster benchmark: import of the 25,000-row roster and in-process lookups.

    .venv/bin/python bench/roster_bench.py [ROSTER.xlsx] [--runs 5]

Prints the median import time (parse + validate + insert into a fresh
database) and the p50/p99 of ``Roster.find`` on that database.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from kiosk import roster
from kiosk.store import Store

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "rosters" / "roster-51374-big.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("roster", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=20000)
    args = parser.parse_args()

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            store = Store(Path(tmp) / f"bench-{run}.db")
            started = time.perf_counter()
            report = roster.import_roster(store, args.roster)
            times.append(time.perf_counter() - started)
            if run < args.runs - 1:
                store.close()
        lookup = roster.Roster(store)
        keys = [
            (r["id_number"], r["student_number"])
            for r in store.conn.execute("SELECT id_number, student_number FROM students")
        ]
        rng = random.Random(1)
        queries = []
        for _ in range(args.lookups):
            id_number, number = rng.choice(keys)
            queries.append(rng.choice((id_number, id_number.lower(), f" {id_number} ", number)))
        latencies = []
        for query in queries:
            t0 = time.perf_counter_ns()
            found = lookup.find(query)
            latencies.append(time.perf_counter_ns() - t0)
            assert found, query
        store.close()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] / 1e6
    p99 = latencies[int(len(latencies) * 0.99)] / 1e6
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, "
        f"python {platform.python_version()}"
    )
    print(f"roster: {args.roster.name}, {report.rows} rows, {report.imported} imported")
    print(
        f"import: median {statistics.median(times):.3f} s over {args.runs} runs "
        f"(min {min(times):.3f}, max {max(times):.3f}); target < 1.0 s"
    )
    print(
        f"find:   p50 {p50:.3f} ms, p99 {p99:.3f} ms over {len(latencies)} lookups; "
        "target p99 < 1 ms"
    )


if __name__ == "__main__":
    main()
