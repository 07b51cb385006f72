"""Runs one peer's SCD2 over the benchmark's days, timing each run (driven by bench/peers/run.ts).

    python peers.py dbt|sqlmesh --db WORK.duckdb --days N

Before each timed run, and outside the timing, `src.entity` is replaced by that day's full state
(`src.snap_<d>`) and the file is checkpointed; then the tool runs in this process (no interpreter start-up
in the figure; dbt's project parse and SQLMesh's context load are in it, as a scheduled run pays them).
Prints one JSON line: {"seconds": [day 0 (first load), day 1, ...]}.
"""

import argparse
import json
import os
import shutil
import time
from datetime import datetime, timedelta

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
DAY0 = datetime(2026, 1, 1)


def stage(db: str, day: int) -> None:
    con = duckdb.connect(db)
    try:
        con.execute(f"CREATE OR REPLACE TABLE src.entity AS SELECT * FROM src.snap_{day}")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def run_dbt(db: str, days: int) -> list[float]:
    from dbt.cli.main import dbtRunner

    # dbt writes .user.yml beside its profile: run a copy beside the data.
    project = os.path.join(os.path.dirname(os.path.abspath(db)), "dbt-project")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(os.path.join(HERE, "dbt"), project, ignore=shutil.ignore_patterns(".user.yml", "target", "logs"))
    target = os.path.join(os.path.dirname(os.path.abspath(db)), "dbt-target")
    args = ["snapshot", "--project-dir", project, "--profiles-dir", project, "--target-path", target, "--quiet"]
    os.environ["DBT_LOG_PATH"] = os.path.join(os.path.dirname(os.path.abspath(db)), "dbt-logs")
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    out = []
    for day in range(days + 1):
        stage(db, day)
        t0 = time.perf_counter()
        res = dbtRunner().invoke(args)
        out.append(time.perf_counter() - t0)
        if not res.success:
            raise SystemExit(f"dbt snapshot failed on day {day}: {res.exception}")
    return out


def run_sqlmesh(db: str, days: int) -> list[float]:
    from sqlmesh import Context

    os.environ["BENCH_STATE_DB"] = os.path.join(os.path.dirname(os.path.abspath(db)), "sqlmesh-state.duckdb")
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "1"
    # SQLMesh writes a .cache into its project: run a copy beside the data (fresh each round, like the data).
    project = os.path.join(os.path.dirname(os.path.abspath(db)), "sqlmesh-project")
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(os.path.join(HERE, "sqlmesh"), project, ignore=shutil.ignore_patterns(".cache"))
    out = []
    for day in range(days + 1):
        stage(db, day)
        # Each daily run is the next day's cron tick: execution time day d + 1 processes interval day d.
        when = (DAY0 + timedelta(days=day + 1)).strftime("%Y-%m-%d")
        t0 = time.perf_counter()
        ctx = Context(paths=project, gateway="bench")
        if day == 0:
            ctx.plan(auto_apply=True, no_prompts=True, execution_time=when)
        else:
            ok = ctx.run(execution_time=when)
            if not ok:
                raise SystemExit(f"sqlmesh run failed on day {day}")
        ctx.close()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("tool", choices=["dbt", "sqlmesh"])
    p.add_argument("--db", required=True)
    p.add_argument("--days", type=int, required=True)
    a = p.parse_args()
    os.environ["BENCH_DB"] = os.path.abspath(a.db)
    seconds = run_dbt(a.db, a.days) if a.tool == "dbt" else run_sqlmesh(a.db, a.days)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
