"""SCD2 merge of a dimension from a change log, on Iceberg: the semantics of src/engines/dialect/scd2.ts.

- Versions follow commit time; changes of a key at one commit time collapse to the one with the
  greatest ordering value (LSN).
- A change whose state (tracked attributes, NULL a value, plus the deletion flag) equals the previous
  state makes no version; a key never seen counts as deleted.
- Ops c/u/r are upserts; d closes the current version and starts a deleted version (is_deleted, current,
  the delete row's attributes). valid_to is the next version's valid_from, NULL while current.
- row_hash = first 64 bits of md5 of the attributes' canonical text (each cast to text, NULL as U+001E,
  joined by U+001F), as a signed BIGINT: the Spark dialect's spelling of the same hash.
- High-water mark: the greatest ordering value merged so far; changes at or below it are replays and
  are skipped. It is kept in the snapshot summary (`tessera.scd2.high-water`) of the commit that wrote
  the versions, so it moves atomically with them. Changes committed before the table's newest
  valid_from are refused (rebuild from the log to include late changes), as are unknown ops, NULL keys
  and NULL commit times/orderings.

How: the touched keys' histories are re-derived from their stored versions plus the new changes (the
engine's "slow path", here for every touched key). The target is partitioned by bucket(N, first key
column); the buckets holding touched keys are rewritten whole by one dynamic partition overwrite: ONE
Iceberg commit (readers see the old table or the new one), recording the step id (tessera_job.py).

  spark-submit ... jobs/scd2_merge.py --changes raw.users_changes --target core.dim_users \
      --business-key user_id --tracked email,country --order-by lsn --commit-time committed_at \
      --op op --step-id <id> [--buckets 16]

--order-by may name several columns (`_lsn,_seq`): see ordering().
"""

import argparse
from functools import reduce

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.functions import partitioning

import tessera_job as tj

MARK_PROPERTY = "tessera.scd2.high-water"


class InputError(Exception):
    pass


def row_hash(cols):
    parts = [F.coalesce(F.col(c).cast("string"), F.lit("\u001e")) for c in cols]
    text = parts[0] if len(parts) == 1 else F.concat_ws("\u001f", *parts)
    return F.conv(F.substring(F.md5(text), 1, 16), 16, -10).cast("bigint")


def ordering(columns):
    """The ordering value: one column as it is; several (`_lsn,_seq`) as text, each after the first zero-padded
    to 20, the engines' `_lsn || lpad(CAST(_seq AS text), 20, '0')` for a change log (materialize.ts)."""
    if len(columns) == 1:
        return F.col(columns[0])
    first, *rest = columns
    return F.concat(F.col(first).cast("string"), *[F.lpad(F.col(c).cast("string"), 20, "0") for c in rest])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--changes", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--business-key", required=True)
    p.add_argument("--tracked", required=True)
    p.add_argument("--order-by", required=True)
    p.add_argument("--commit-time", required=True)
    p.add_argument("--op", required=True)
    p.add_argument("--step-id", required=True)
    p.add_argument("--buckets", type=int, default=16)
    a = p.parse_args()
    changes_table, target = tj.table_name(a.changes), tj.table_name(a.target)
    keys = [k for k in a.business_key.split(",") if k]
    attrs = [c for c in a.tracked.split(",") if c]
    order_cols = [c for c in a.order_by.split(",") if c]
    for c in [*keys, *attrs, *order_cols, a.commit_time, a.op]:
        tj.column(c)
    cols = [*keys, *attrs]

    spark = tj.session(f"tessera-scd2-{a.target}")
    done = tj.committed_by(spark, target, a.step_id)
    if done is not None:
        tj.report(status="skipped", table=a.target, snapshot_id=done, step_id=a.step_id)
        return

    src = spark.table(changes_table).select(
        *cols,
        F.col(a.commit_time).alias("__ts"),
        ordering(order_cols).alias("__ord"),
        F.col(a.op).alias("__op"),
    )
    order_type = src.schema["__ord"].dataType
    schema = target.split(".")[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {schema}")
    if not tj.exists(spark, target):
        empty = src.limit(0).select(
            *cols,
            F.col("__ts").alias("valid_from"),
            F.col("__ts").alias("valid_to"),
            F.lit(True).alias("is_current"),
            F.lit(True).alias("is_deleted"),
            F.col("__ord").alias("source_lsn"),
            F.lit(0).cast("bigint").alias("row_hash"),
        )
        empty.writeTo(target).partitionedBy(partitioning.bucket(a.buckets, F.col(keys[0]))).create()
    read_snapshot = tj.current_snapshot(spark, target)
    t = spark.table(target)

    # High-water mark: the greatest of the marks recorded in the summaries and the stored orderings.
    marks = spark.sql(f"SELECT summary['{MARK_PROPERTY}'] AS m FROM {target}.snapshots").select(
        F.col("m").cast(order_type).alias("m")
    )
    mark = marks.union(t.select(F.col("source_lsn").cast(order_type))).agg(F.max("m")).first()[0]
    newest_from = t.agg(F.max("valid_from")).first()[0]

    fresh = src if mark is None else src.where(F.col("__ord").isNull() | (F.col("__ord") > F.lit(mark)))
    by_commit = Window.partitionBy(*keys, "__ts").orderBy(F.col("__ord").desc_nulls_first())
    fresh = (
        fresh.withColumn("__rn", F.row_number().over(by_commit))
        .where("__rn = 1")
        .drop("__rn")
        .withColumn("__del", F.col("__op") == "d")
        .withColumn("__hash", row_hash(attrs))
        .cache()
    )
    v = fresh.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(F.col("__op").isNull() | ~F.col("__op").isin("c", "u", "d", "r"), 1).otherwise(0)).alias("bad_ops"),
        F.sum(F.when(reduce(lambda x, y: x | y, [F.col(k).isNull() for k in keys]), 1).otherwise(0)).alias("null_keys"),
        F.sum(F.when(F.col("__ts").isNull() | F.col("__ord").isNull(), 1).otherwise(0)).alias("null_order"),
        F.sum(F.when(F.col("__ts") < F.lit(newest_from), 1).otherwise(0) if newest_from else F.lit(0)).alias("late"),
        F.max("__ord").alias("max_ord"),
    ).first()
    problems = [
        f"{v['bad_ops']} change(s) with an op other than 'c', 'u', 'd', 'r'" if v["bad_ops"] else None,
        f"{v['null_keys']} change(s) with a NULL business key" if v["null_keys"] else None,
        f"{v['null_order']} change(s) with a NULL commit time or ordering value" if v["null_order"] else None,
        f"{v['late']} change(s) committed before the table's newest version ({newest_from}); merges take "
        f"batches in commit order: rebuild {a.target} from the log to include late changes"
        if v["late"]
        else None,
    ]
    problems = [x for x in problems if x]
    if problems:
        raise InputError(f"SCD2 merge into {a.target} refused: {'; '.join(problems)}")
    if v["rows"] == 0:
        tj.report(status="committed", table=a.target, snapshot_id=None, step_id=a.step_id, applied=0, note="nothing new")
        return

    # Iceberg's own bucket function: the partition each row lives in.
    bucket_of = F.expr(f"system.bucket({a.buckets}, {tj.column(keys[0])})")
    touched = fresh.select(*keys).distinct()
    buckets = touched.select(bucket_of.alias("__b")).distinct()
    in_buckets = t.withColumn("__b", bucket_of).join(F.broadcast(buckets), "__b", "left_semi").drop("__b")
    stored = in_buckets.join(touched, keys, "left_semi")
    untouched = in_buckets.join(touched, keys, "left_anti")

    # Events of the touched keys: their stored versions, then the new changes (greater ordering wins a tie).
    events = stored.select(
        *cols,
        F.col("valid_from").alias("__ts"),
        F.col("source_lsn").cast(order_type).alias("__ord"),
        F.col("is_deleted").alias("__del"),
        F.col("row_hash").alias("__hash"),
    ).unionByName(fresh.select(*cols, "__ts", "__ord", "__del", "__hash"))
    events = events.withColumn("__rn", F.row_number().over(by_commit)).where("__rn = 1").drop("__rn")
    in_time = Window.partitionBy(*keys).orderBy("__ts")
    prev_del, prev_hash = F.lag("__del").over(in_time), F.lag("__hash").over(in_time)
    changed = F.when(F.col("__del"), ~F.coalesce(prev_del, F.lit(True))).otherwise(
        F.coalesce(prev_del, F.lit(True)) | ~prev_hash.eqNullSafe(F.col("__hash"))
    )
    versions = events.withColumn("__changed", changed).where("__changed")
    versions = versions.withColumn("__next", F.lead("__ts").over(in_time)).select(
        *cols,
        F.col("__ts").alias("valid_from"),
        F.col("__next").alias("valid_to"),
        F.col("__next").isNull().alias("is_current"),
        F.col("__del").alias("is_deleted"),
        F.col("__ord").alias("source_lsn"),
        F.col("__hash").alias("row_hash"),
    )
    target_cols = t.columns
    new_content = untouched.select(*target_cols).unionByName(versions.select(*target_cols))
    new_mark = v["max_ord"] if mark is None else max(mark, v["max_ord"])
    tj.writer(
        new_content, target, a.step_id, read_snapshot, {MARK_PROPERTY: str(new_mark)}
    ).overwritePartitions()
    snapshot = tj.committed_by(spark, target, a.step_id)
    tj.report(status="committed", table=a.target, snapshot_id=snapshot, step_id=a.step_id, applied=v["rows"])


if __name__ == "__main__":
    main()
