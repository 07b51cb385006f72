"""Dagster's dispatch overhead on the benchmark's no-op graph (driven by bench/peers/dispatch.ts).

    python dispatch_dagster.py --steps 20 --executor in_process|multiprocess --rounds N

The graph is a chain of `steps` no-op assets (each depends on the one before), so every step's dispatch is on
the critical path; the same graph Tessera and bare Temporal run. Each asset records when its body starts and
ends; a step's overhead is the gap between one body ending and the next one starting. Runs materialize through
a real DagsterInstance on disk (what `dagster job execute` uses), with the run's events stored as usual.
Prints one JSON line per round: {"gaps_ms": [...], "wall_ms": ...}.
"""

import argparse
import json
import os
import tempfile
import time

import dagster as dg

STAMPS = os.environ.get("BENCH_STAMPS", "")


def stamp(kind: str, i: int) -> None:
    # Multiprocess steps run in other processes: stamps go to a file (wall clock; same machine).
    with open(STAMPS, "a") as f:
        f.write(f"{kind} {i} {time.time() * 1000.0}\n")


def make_asset(i: int, prev):
    deps = [prev] if prev is not None else []

    @dg.asset(name=f"a{i:02d}", deps=deps)
    def _asset() -> None:
        stamp("start", i)
        stamp("end", i)

    return _asset


def build(steps: int):
    assets = []
    prev = None
    for i in range(steps):
        a = make_asset(i, prev)
        assets.append(a)
        prev = a
    return assets


ASSETS = build(int(os.environ.get("BENCH_STEPS", "20")))
defs = dg.Definitions(
    assets=ASSETS,
    jobs=[dg.define_asset_job("chain", selection=dg.AssetSelection.all(), executor_def=dg.multiprocess_executor)],
)


def multiprocess_job():
    """Module-level, so `reconstructable` can load the job in each step's process."""
    return defs.resolve_job_def("chain")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--executor", choices=["in_process", "multiprocess"], required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1, help="rounds run first and not reported")
    a = p.parse_args()
    home = tempfile.mkdtemp(prefix="dagster-bench-")
    os.environ["DAGSTER_HOME"] = home
    with dg.DagsterInstance.get() as instance:
        recon = dg.reconstructable(multiprocess_job)
        for r in range(a.warmup + a.rounds):  # warm-up rounds: imports, first event-log writes
            open(STAMPS, "w").close()
            t0 = time.time() * 1000.0
            if a.executor == "in_process":
                ok = dg.materialize(ASSETS, instance=instance).success
            else:
                with dg.execute_job(recon, instance=instance) as res:
                    ok = res.success
            wall = time.time() * 1000.0 - t0
            if not ok:
                raise SystemExit("dagster run failed")
            starts, ends = {}, {}
            for line in open(STAMPS):
                kind, i, t = line.split()
                (starts if kind == "start" else ends)[int(i)] = float(t)
            n = len(starts)
            gaps = [starts[i] - ends[i - 1] for i in range(1, n)]
            if r >= a.warmup:
                print(json.dumps({"gaps_ms": gaps, "wall_ms": wall, "first_start_ms": starts[0] - t0}), flush=True)


if __name__ == "__main__":
    main()
