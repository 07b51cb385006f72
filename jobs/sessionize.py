"""Snowplow sessionization of one day, as `clickstream.fct_sessions` defines it (src/assets/clickstream.ts).

Rules (the same as the SQL asset): a user's events (by domain_userid) in [day - 30 min, day + 1) in time
order; an event starts a new session when it is the user's first or comes more than 30 minutes after the
previous one; a session belongs to the day it starts in (sessions that started the day before are left
out). session_id = domain_userid || '-' || start as yyyyMMddHHmmss (UTC); user_id = the greatest;
page_views = page_view events; mkt_source/medium/campaign = the value at the earliest event where it is
not NULL.

The day is replaced in ONE commit (overwrite by the day's filter on a table partitioned by
days(started_at)), recording the step id: see tessera_job.py.

  spark-submit ... jobs/sessionize.py --source raw.snowplow_events --target clickstream.fct_sessions \
      --day 2026-11-24 --step-id <id>
"""

import argparse
import datetime as dt

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.functions import partitioning

import tessera_job as tj

GAP_SECONDS = 30 * 60
MKT = ["mkt_source", "mkt_medium", "mkt_campaign"]


def sessions(events, start, end):
    """The day's sessions from its events and the 30 minutes before it."""
    lookback = start - dt.timedelta(seconds=GAP_SECONDS)
    e = events.where((F.col("derived_tstamp") >= F.lit(lookback)) & (F.col("derived_tstamp") < F.lit(end))).select(
        "domain_userid", "user_id", F.col("derived_tstamp").alias("ts"), "event_name", *MKT
    )
    by_user = Window.partitionBy("domain_userid").orderBy("ts")
    prev = F.lag("ts").over(by_user)
    e = e.withColumn(
        "is_new",
        F.when(prev.isNull() | (F.col("ts") > prev + F.expr(f"INTERVAL {GAP_SECONDS} SECONDS")), 1).otherwise(0),
    )
    e = e.withColumn("n", F.sum("is_new").over(by_user.rowsBetween(Window.unboundedPreceding, Window.currentRow)))

    def first_non_null(c):
        # The value at the least ts among rows where both are non-null (the asset's arg_min).
        return F.min_by(F.col(c), F.when(F.col(c).isNotNull(), F.col("ts"))).alias(c)

    s = e.groupBy("domain_userid", "n").agg(
        F.max("user_id").alias("user_id"),
        F.min("ts").alias("started_at"),
        F.max("ts").alias("ended_at"),
        F.sum(F.when(F.col("event_name") == "page_view", 1).otherwise(0)).cast("bigint").alias("page_views"),
        *[first_non_null(c) for c in MKT],
    )
    s = s.where(F.col("started_at") >= F.lit(start))
    return s.select(
        F.concat(F.col("domain_userid"), F.lit("-"), F.date_format("started_at", "yyyyMMddHHmmss")).alias("session_id"),
        "domain_userid",
        "user_id",
        "started_at",
        "ended_at",
        "page_views",
        *MKT,
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--day", required=True, help="YYYY-MM-DD (UTC)")
    p.add_argument("--step-id", required=True)
    a = p.parse_args()
    source, target = tj.table_name(a.source), tj.table_name(a.target)
    start = dt.datetime.strptime(a.day, "%Y-%m-%d")
    end = start + dt.timedelta(days=1)

    spark = tj.session(f"tessera-sessionize-{a.day}")
    done = tj.committed_by(spark, target, a.step_id)
    if done is not None:
        tj.report(status="skipped", table=a.target, snapshot_id=done, step_id=a.step_id)
        return
    read_snapshot = tj.current_snapshot(spark, target)
    out = sessions(spark.table(source), start, end)
    schema = target.split(".")[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {schema}")
    if not tj.exists(spark, target):
        # Empty, partitioned by day; the write below is then the table's first data commit.
        out.limit(0).writeTo(target).partitionedBy(partitioning.days("started_at")).create()
        read_snapshot = tj.current_snapshot(spark, target)
    day_filter = (F.col("started_at") >= F.lit(start)) & (F.col("started_at") < F.lit(end))
    tj.writer(out, target, a.step_id, read_snapshot, {"tessera.partition": a.day}).overwrite(day_filter)
    snapshot = tj.committed_by(spark, target, a.step_id)
    rows = spark.table(target).where(day_filter).count()
    tj.report(status="committed", table=a.target, snapshot_id=snapshot, step_id=a.step_id, rows=rows)


if __name__ == "__main__":
    main()
