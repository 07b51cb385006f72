"""What every Tessera PySpark job shares: the session, and writing a table exactly once per step.

A job is run by the `sparkJob` activity (src/activities/spark-job.ts) through spark-submit, with
`--step-id`: the id of the plan step it carries out. Every commit a job makes records that id in the
Iceberg snapshot summary (`tessera.step-id`). Before writing, the job looks for it among the table's
snapshots: found means an earlier attempt already committed (a worker killed after the commit, a
retried activity), and the job writes nothing. The write itself validates from the snapshot the job
read (serializable isolation), so an orphaned earlier attempt that commits in between makes this
commit fail instead of writing twice; the retry then finds the step id.

The last line a job prints is one JSON object (the activity parses it): {"status": "committed" |
"skipped", "table", "snapshot_id" (as text), ...}.
"""

import json
import re

from pyspark.sql import DataFrame, SparkSession

STEP_PROPERTY = "tessera.step-id"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def session(app):
    spark = SparkSession.builder.appName(app).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def table_name(name):
    """`schema.table` → a quoted name in the default (Iceberg) catalog; refuses anything else."""
    parts = name.split(".")
    if len(parts) != 2 or not all(NAME.match(p) for p in parts):
        raise ValueError(f"table {name!r}: expected schema.table with plain names")
    return ".".join(f"`{p}`" for p in parts)


def column(name):
    if not NAME.match(name):
        raise ValueError(f"column {name!r}: expected a plain name")
    return f"`{name}`"


def exists(spark, table):
    return spark.catalog.tableExists(table.replace("`", ""))


def committed_by(spark, table, step_id):
    """The snapshot that recorded `step_id`, or None."""
    if not exists(spark, table):
        return None
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots WHERE summary['{STEP_PROPERTY}'] = ? "
        "ORDER BY committed_at LIMIT 1",
        args=[step_id],
    ).collect()
    # As text: snapshot ids are 64-bit, beyond what a JSON number keeps exactly in JavaScript.
    return str(rows[0][0]) if rows else None


def current_snapshot(spark, table):
    if not exists(spark, table):
        return None
    rows = spark.sql(
        f"SELECT snapshot_id FROM {table}.history WHERE is_current_ancestor ORDER BY made_current_at DESC LIMIT 1"
    ).collect()
    return rows[0][0] if rows else None


def writer(df: DataFrame, table, step_id, read_snapshot, properties=None):
    """A DataFrameWriterV2 whose commit records the step id and validates from `read_snapshot`."""
    w = df.writeTo(table).option(f"snapshot-property.{STEP_PROPERTY}", step_id)
    for k, v in (properties or {}).items():
        w = w.option(f"snapshot-property.{k}", v)
    if read_snapshot is not None:
        w = w.option("validate-from-snapshot-id", str(read_snapshot)).option("isolation-level", "serializable")
    return w


def report(**fields):
    print(json.dumps(fields, default=str), flush=True)
