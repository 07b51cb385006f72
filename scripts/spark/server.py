"""Tessera's Spark SQL server: one SparkSession with the Iceberg catalog, serving SQL as JSON over HTTP.

Node has no Spark client, and Spark Connect's protocol (gRPC + Arrow) would need a client library we do
not have; this is the smallest thing that works: started by `scripts/services/spark.sh` through
`spark-submit` (so it gets the same jars and catalog settings as the jobs in `jobs/`), listening on
127.0.0.1 only.

Protocol (POST, JSON body, JSON answer):
  /query  {"sql": str, "params": [..]?, "session": str?} -> {"rows": [{col: value}], "columns": [..]}
  /run    {"sql": str, "session": str?}                   -> {"count": -1}  (statements split on ';')
  /close  {"session": str, "purge": bool?}                -> {}
Every request may name a "catalog": a session created by it uses a catalog of that name with the
lakehouse's settings and its own warehouse folder (tests: each engine its own tables; purge drops them).
  GET /health                      -> {"ok": true, "version": "4.1.x", "statements": ["STAGE VIEW"]}
Errors: HTTP 400 {"error": message, "class": exception class, "retryable": bool}.

A session id names a `SparkSession.newSession()`: its own temp views (staging) and settings, the
same catalog. Two statements are answered specially, because Spark has no information_schema:
  DESCRIBE TABLE <name>   -> rows {name, type} of the columns only (type as Spark's SQL spelling,
                             upper case), and no rows when the relation does not exist;
  SHOW RELATION KIND <name> -> one row {kind: 'table'|'view'}, none when it does not exist.
One statement is run specially:
  STAGE VIEW <name> AS <select> -> the select computed now (a runtime error surfaces here) and kept as the
                             session's temp view <name>, cut loose from the tables it read. A `CACHE TABLE`
                             is not: Spark recomputes a cached relation when a table it read is written
                             (an SCD2 merge's staged versions would change under it after the MERGE).

Values are JSON-safe as the engine contract says: integers beyond 2^53 as strings, DECIMAL as
numbers, TIMESTAMP as ISO-8601 UTC (the process runs with TZ=UTC, the session with timeZone=UTC).
"""

import argparse
import base64
import datetime as dt
import decimal
import json
import math
import os
import re
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# pyspark turns TIMESTAMP values into naive datetimes in the process's local time zone: make it UTC
# before pyspark is imported.
os.environ["TZ"] = "UTC"
time.tzset()

from pyspark.sql import SparkSession  # noqa: E402

MAX_SAFE = 2**53 - 1
DESCRIBE = re.compile(r"^\s*DESCRIBE\s+TABLE\s+(.+?)\s*;?\s*$", re.I | re.S)
KIND = re.compile(r"^\s*SHOW\s+RELATION\s+KIND\s+(.+?)\s*;?\s*$", re.I | re.S)
STAGE = re.compile(r"^\s*STAGE\s+VIEW\s+(`(?:[^`]|``)+`|\w+)\s+AS\s+(.+?)\s*;?\s*$", re.I | re.S)
# Iceberg commit conflicts and similar: running the same call again can succeed.
RETRYABLE = re.compile(r"CommitFailedException|ConcurrentModification|ValidationException: Found conflicting")


def json_value(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if -MAX_SAFE <= v <= MAX_SAFE else str(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        frac = f".{v.microsecond:06d}" if v.microsecond % 1000 else f".{v.microsecond // 1000:03d}"
        return v.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if hasattr(v, "asDict"):
        return {k: json_value(x) for k, x in v.asDict().items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    return str(v)


def split_statements(sql):
    """Splits on ';' outside quotes and comments."""
    out, cur, quote, i = [], [], None, 0
    while i < len(sql):
        c = sql[i]
        if quote:
            cur.append(c)
            if c == quote:
                if i + 1 < len(sql) and sql[i + 1] == quote:
                    cur.append(sql[i + 1])
                    i += 1
                else:
                    quote = None
        elif c in ("'", '"', "`"):
            quote = c
            cur.append(c)
        elif c == "-" and sql[i : i + 2] == "--":
            j = sql.find("\n", i)
            i = len(sql) if j == -1 else j
            continue
        elif c == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [s for s in (x.strip() for x in out) if s]


class Server:
    def __init__(self, spark):
        self.spark = spark
        self.sessions = {}
        self.lock = threading.Lock()

    def session(self, sid, catalog=None):
        if not sid:
            return self.spark
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                s = self.spark.newSession()
                if catalog and catalog != "iceberg":
                    self.use_catalog(s, catalog)
                self.sessions[sid] = s
            return s

    def use_catalog(self, s, catalog):
        """A catalog of its own (tests): the lakehouse's settings, its own name (rows of the JDBC catalog
        are keyed by catalog name) and its own warehouse folder, as the session's default catalog."""
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", catalog):
            raise ValueError(f"bad catalog name {catalog!r}")
        prefix = "spark.sql.catalog.iceberg"
        for k, v in self.spark.sparkContext.getConf().getAll():
            if k == prefix or k.startswith(prefix + "."):
                s.conf.set("spark.sql.catalog." + catalog + k[len(prefix) :], v)
        warehouse = self.spark.sparkContext.getConf().get(prefix + ".warehouse")
        s.conf.set(f"spark.sql.catalog.{catalog}.warehouse", f"{warehouse}/{catalog}")
        s.conf.set("spark.sql.defaultCatalog", catalog)

    def close(self, sid, purge=False):
        with self.lock:
            s = self.sessions.pop(sid, None)
        if s is None:
            return
        try:
            self.drop_session(s, purge)
        finally:
            self.close_catalog(s)

    def close_catalog(self, s):
        """Every session loads its own instance of its catalog, and an Iceberg JDBC catalog holds a pool of
        PostgreSQL connections until it is closed: without this, each session leaks connections until
        PostgreSQL refuses clients."""
        try:
            name = s.conf.get("spark.sql.defaultCatalog")
            plugin = s._jsparkSession.sessionState().catalogManager().catalog(name)
            plugin.icebergCatalog().close()
        except Exception:  # noqa: BLE001 - not an Iceberg catalog, or not closeable: nothing held
            pass

    def drop_session(self, s, purge):
        for t in s.catalog.listTables():
            if t.isTemporary:
                s.catalog.dropTempView(t.name)
        if purge:
            # A test's own catalog: drop everything in it (tables with their files).
            for ns in [r[0] for r in s.sql("SHOW NAMESPACES").collect()]:
                for v in s.sql(f"SHOW VIEWS IN `{ns}`").collect():
                    if not v["isTemporary"]:
                        s.sql(f"DROP VIEW IF EXISTS `{ns}`.`{v['viewName']}`")
                for t in s.sql(f"SHOW TABLES IN `{ns}`").collect():
                    if not t["isTemporary"]:
                        s.sql(f"DROP TABLE IF EXISTS `{ns}`.`{t['tableName']}` PURGE")
                s.sql(f"DROP NAMESPACE IF EXISTS `{ns}`")
            # PURGE deletes the files, not the folders: remove the catalog's own warehouse folder.
            warehouse = s.conf.get(f"spark.sql.catalog.{s.conf.get('spark.sql.defaultCatalog')}.warehouse", "")
            if warehouse.startswith("file://") and s.conf.get("spark.sql.defaultCatalog") != "iceberg":
                shutil.rmtree(warehouse[len("file://") :], ignore_errors=True)

    def describe(self, spark, name):
        try:
            schema = spark.table(name).schema
        except Exception as e:  # noqa: BLE001 - AnalysisException: relation not found
            if "TABLE_OR_VIEW_NOT_FOUND" in str(e) or "NoSuchTable" in str(e):
                return []
            raise
        return [{"name": f.name, "type": f.dataType.simpleString().upper()} for f in schema.fields]

    def kind(self, spark, name):
        parts = [p.strip("`") for p in re.findall(r"`(?:[^`]|``)*`|[^.]+", name)]
        rows = spark.sql(f"SHOW VIEWS IN {'.'.join('`' + p + '`' for p in parts[:-1])} LIKE '{parts[-1]}'").collect()
        if any(r["viewName"] == parts[-1] for r in rows):
            return [{"kind": "view"}]
        return [{"kind": "table"}] if spark.catalog.tableExists(name) else []

    def query(self, sid, sql, params):
        spark = self.session(sid)
        m = DESCRIBE.match(sql)
        if m:
            return {"rows": self.describe(spark, m.group(1)), "columns": ["name", "type"]}
        m = KIND.match(sql)
        if m:
            return {"rows": self.kind(spark, m.group(1)), "columns": ["kind"]}
        df = spark.sql(sql, args=list(params)) if params else spark.sql(sql)
        columns = df.columns
        rows = [{c: json_value(r[i]) for i, c in enumerate(columns)} for r in df.collect()]
        return {"rows": rows, "columns": columns}

    def run(self, sid, sql):
        spark = self.session(sid)
        for statement in split_statements(sql):
            m = STAGE.match(statement)
            if m:
                self.stage(spark, m.group(1), m.group(2))
            else:
                spark.sql(statement).collect()
        return {"count": -1}

    def stage(self, spark, name, select):
        """A local checkpoint: computed now, kept by the executors' block managers, and its plan no longer
        names the tables it read, so no write to them recomputes it (see STAGE VIEW above)."""
        df = spark.sql(select).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name[1:-1].replace("``", "`") if name.startswith("`") else name)


def handler_for(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the service log holds Spark's own logging
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, {"ok": True, "version": server.spark.version, "statements": ["STAGE VIEW"]})
            else:
                self.answer(404, {"error": f"no such path {self.path}"})

        def do_POST(self):
            try:
                length = int(self.headers.get("Content-Length", "0"))
                req = json.loads(self.rfile.read(length) or b"{}")
                sid = req.get("session")
                if sid:
                    server.session(sid, req.get("catalog"))
                if self.path == "/query":
                    self.answer(200, server.query(sid, req["sql"], req.get("params") or []))
                elif self.path == "/run":
                    self.answer(200, server.run(sid, req["sql"]))
                elif self.path == "/close":
                    server.close(sid, bool(req.get("purge")))
                    self.answer(200, {})
                else:
                    self.answer(404, {"error": f"no such path {self.path}"})
            except Exception as e:  # noqa: BLE001 - every failure goes back to the client
                text = str(e)
                self.answer(
                    400,
                    {"error": text, "class": type(e).__name__, "retryable": bool(RETRYABLE.search(text))},
                )

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--port-file", help="written once the server listens")
    args = p.parse_args()
    spark = SparkSession.builder.appName("tessera-sql").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(Server(spark)))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(httpd.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
