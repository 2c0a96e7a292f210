"""foci-hunt against its peers: the same detection (v1 at its defaults: S1-S11, D1-D3) on the
same files in DuckDB, Polars and datafusion-python, each in its own process with the same thread
count (and memory limit where the engine has one), after one warm-up run. Every engine's rows are
reduced to one hash of the sorted rows and must agree with foci-hunt's.

    benches/peers/run.sh --lake LAKE --foci-hunt target/release/foci-hunt [--format parquet|ndjson]
                         [--threads 2] [--memory-limit 4G] [--runs 5] [--engines duckdb,polars,...]

Times are hashed at microsecond precision, so that an engine reading timestamps in microseconds
would still agree: the detection's TimeDiff counts minute boundaries, which sub-microsecond
digits never move.
"""
import argparse
import hashlib
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
WATCHED = ("Microsoft Azure CLI", "Microsoft Azure PowerShell", "Office 365 Management")
TEXT_COLUMNS = [
    "AppDisplayName", "AppId", "AuthenticationProcessingDetails", "ClientAppUsed", "DeviceDetail",
    "HomeTenantId", "Identity", "IncomingTokenType", "IPAddress", "Location", "LocationDetails",
    "ResourceIdentity", "ResourceTenantId", "ResultDescription", "ResultType", "SessionId", "UserAgent",
    "UserPrincipalName",
]
# The rule's 23 output columns: (name, side, source column).
OUTPUT = [
    ("FirstRequestTimeGenerated", "f", "TimeGenerated"), ("FirstResult", "f", "ResultType"),
    ("FirstResultDescription", "f", "ResultDescription"), ("Identity", "f", "Identity"),
    ("Location", "f", "Location"), ("FirstAppDisplayName", "f", "AppDisplayName"), ("FirstAppId", "f", "AppId"),
    ("ClientAppUsed", "f", "ClientAppUsed"), ("DeviceDetail", "f", "DeviceDetail"),
    ("SecondDeviceDetail", "s", "DeviceDetail"), ("IPAddress", "f", "IPAddress"),
    ("LocationDetails", "f", "LocationDetails"), ("UserAgent", "f", "UserAgent"),
    ("SecondRequestTimeGenerated", "s", "TimeGenerated"), ("SecondResult", "s", "ResultType"),
    ("SecondResultDescription", "s", "ResultDescription"), ("SecondAppDisplayName", "s", "AppDisplayName"),
    ("SecondAppId", "s", "AppId"), ("SeconIncomingTokenType", "s", "IncomingTokenType"),
    ("SessionId", "f", "SessionId"), ("TimeDiff", None, None),
    ("AuthenticationProcessingDetails", "f", "AuthenticationProcessingDetails"),
    ("SecondAuthenticationProcessingDetails", "s", "AuthenticationProcessingDetails"),
]
ENGINES = ["foci-hunt", "duckdb", "polars", "datafusion-python"]


def input_files(lake, fmt):
    suffix = ".parquet" if fmt == "parquet" else ".ndjson"
    files = sorted(str(p) for p in pathlib.Path(lake).rglob(f"*{suffix}") if p.name != "ground_truth.ndjson")
    if not files:
        raise SystemExit(f"no {suffix} files under {lake}")
    return files


def foci_ids():
    lines = (ROOT / "data/foci_clients.csv").read_text().splitlines()[1:]
    return sorted({line.split(",")[0].strip().lower() for line in lines if line.strip()})


def rule_sql(source, minute):
    """The detection over `source` (canonical columns) in SQL common to DuckDB and DataFusion;
    `minute` turns a timestamp expression into whole minutes since the epoch, floored."""
    watched = ", ".join(f"'{a}'" for a in WATCHED)
    time_diff = minute('s."TimeGenerated"') + " - " + minute('f."TimeGenerated"') + ' AS "TimeDiff"'
    columns = ",\n  ".join(
        time_diff if side is None else f'{side}."{column}" AS "{name}"' for name, side, column in OUTPUT
    )
    return f"""
WITH base AS (
  SELECT * FROM {source}
  WHERE "TimeGenerated" IS NOT NULL AND "HomeTenantId" = "ResourceTenantId"
    AND lower("AppId") IN (SELECT id FROM foci)
),
f AS (SELECT * FROM base WHERE "IncomingTokenType" = 'none' AND "SessionId" <> ''),
s AS (SELECT * FROM base WHERE "IncomingTokenType" <> 'none' AND "SessionId" <> '' AND "AppDisplayName" IN ({watched}))
SELECT * FROM (
  SELECT
  {columns}
  FROM s JOIN f ON f."SessionId" = s."SessionId" AND f."UserPrincipalName" = s."UserPrincipalName"
  WHERE f."AppDisplayName" <> s."AppDisplayName"
) WHERE "TimeDiff" >= 0
"""


def canonical_select(source, time_expression):
    texts = ", ".join(f"COALESCE(\"{c}\", '') AS \"{c}\"" for c in TEXT_COLUMNS)
    return f'SELECT {time_expression} AS "TimeGenerated", {texts} FROM {source}'


def run_duckdb(files, fmt, threads, memory):
    import duckdb

    con = duckdb.connect(config={"threads": threads, "memory_limit": memory})
    con.execute("CREATE TABLE foci AS SELECT unnest($ids) AS id", {"ids": foci_ids()})
    quoted = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    if fmt == "parquet":
        source = f"read_parquet({quoted}, hive_partitioning = false, union_by_name = true)"
        time_expression = "\"TimeGenerated\""
    else:
        types = ", ".join(f"'{c}': 'VARCHAR'" for c in ["TimeGenerated"] + TEXT_COLUMNS)
        source = f"read_json({quoted}, format = 'newline_delimited', columns = {{{types}}})"
        time_expression = "CAST(NULLIF(\"TimeGenerated\", '') AS TIMESTAMPTZ_NS)"
    con.execute(f"CREATE VIEW signin_logs AS {canonical_select(source, time_expression)}")
    sql = rule_sql("signin_logs", lambda t: f"(epoch_ns({t}) // 60000000000)")
    return con.sql(sql).to_arrow_table()


def run_datafusion(files, fmt, threads, memory):
    import pyarrow as pa
    from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext

    config = (
        SessionConfig()
        .with_target_partitions(threads)
        .set("datafusion.sql_parser.enable_ident_normalization", "false")
        .set("datafusion.execution.parquet.pushdown_filters", "true")
    )
    runtime = RuntimeEnvBuilder().with_fair_spill_pool(parse_size(memory))
    ctx = SessionContext(config, runtime)
    ctx.register_record_batches("foci", [[pa.record_batch({"id": pa.array(foci_ids())})]])
    if fmt == "parquet":
        ctx.register_parquet("signin_source", files[0].rsplit("/", 1)[0] if len(files) == 1 else common_root(files), file_extension=".parquet")
        time_expression = "arrow_cast(\"TimeGenerated\", 'Timestamp(Nanosecond, None)')"
    else:
        schema = pa.schema([pa.field(c, pa.string()) for c in ["TimeGenerated"] + TEXT_COLUMNS])
        ctx.register_json("signin_source", common_root(files), schema=schema, file_extension=".ndjson")
        time_expression = "to_timestamp_nanos(NULLIF(\"TimeGenerated\", ''))"
    ctx.sql(f"CREATE VIEW signin_logs AS {canonical_select('signin_source', time_expression)}").collect()
    sql = rule_sql("signin_logs", lambda t: f"(arrow_cast({t}, 'Int64') / 60000000000)")
    frame = ctx.sql(sql)
    return pa.Table.from_batches(frame.collect(), schema=frame.schema())


def run_polars(files, fmt, threads, memory):
    import polars as pl

    if fmt == "parquet":
        frame = pl.scan_parquet(files, hive_partitioning=False).select(["TimeGenerated"] + TEXT_COLUMNS)
        frame = frame.with_columns(pl.col("TimeGenerated").dt.convert_time_zone("UTC"))
    else:
        schema = {c: pl.String for c in ["TimeGenerated"] + TEXT_COLUMNS}
        frame = pl.scan_ndjson(files, schema=schema).with_columns(
            pl.col("TimeGenerated").str.to_datetime(time_unit="ns", time_zone="UTC", strict=True)
        )
    frame = frame.with_columns([pl.col(c).fill_null("") for c in TEXT_COLUMNS])
    base = frame.filter(
        pl.col("TimeGenerated").is_not_null()
        & (pl.col("HomeTenantId") == pl.col("ResourceTenantId"))
        & pl.col("AppId").str.to_lowercase().is_in(foci_ids())
    )
    firsts = base.filter((pl.col("IncomingTokenType") == "none") & (pl.col("SessionId") != ""))
    seconds = base.filter(
        (pl.col("IncomingTokenType") != "none") & (pl.col("SessionId") != "") & pl.col("AppDisplayName").is_in(list(WATCHED))
    )
    firsts = firsts.rename({c: f"f_{c}" for c in ["TimeGenerated"] + TEXT_COLUMNS})
    seconds = seconds.rename({c: f"s_{c}" for c in ["TimeGenerated"] + TEXT_COLUMNS})
    pairs = seconds.join(
        firsts, left_on=["s_SessionId", "s_UserPrincipalName"], right_on=["f_SessionId", "f_UserPrincipalName"], how="inner", coalesce=False
    )
    minute = lambda c: pl.col(c).dt.epoch("us").floordiv(60_000_000)
    pairs = pairs.with_columns((minute("s_TimeGenerated") - minute("f_TimeGenerated")).alias("TimeDiff"))
    pairs = pairs.filter((pl.col("f_AppDisplayName") != pl.col("s_AppDisplayName")) & (pl.col("TimeDiff") >= 0))
    selected = [pl.col("TimeDiff") if side is None else pl.col(f"{side}_{column}").alias(name) for name, side, column in OUTPUT]
    return pairs.select(selected).collect().to_arrow()


def common_root(files):
    return os.path.commonpath([os.path.dirname(f) for f in files])


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def digest(table):
    """The hash of the sorted rows: times as microseconds since the epoch, text as is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, _, _ in OUTPUT:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[column.type.unit]
            raw = pc.cast(column, pa.int64()).to_pylist()
            columns.append([None if v is None else v * 1_000_000 // per_second for v in raw])
            continue
        columns.append(column.to_pylist())
    rows = sorted(zip(*columns), key=lambda r: json.dumps(r))
    return hashlib.sha256("\n".join(json.dumps(r) for r in rows).encode()).hexdigest()[:16], len(rows)


def child(args):
    """One run of one engine, in this process: the rows go to a Parquet file."""
    import pyarrow.parquet as pq

    files = input_files(args.lake, args.format)
    engines = {"duckdb": run_duckdb, "polars": run_polars, "datafusion-python": run_datafusion}
    table = engines[args.engine](files, args.format, args.threads, args.memory_limit)
    pq.write_table(table, args.out)


def measure(args, engine, out):
    """Runs one engine in its own process; returns (wall seconds, peak RSS bytes)."""
    env = dict(os.environ, POLARS_MAX_THREADS=str(args.threads), RAYON_NUM_THREADS=str(args.threads))
    if engine == "foci-hunt":
        lake_inputs = [x for f in input_files(args.lake, args.format) for x in ("--input", f)]
        command = [args.foci_hunt, "hunt", *lake_inputs, "--threads", str(args.threads), "--memory-limit", args.memory_limit,
                   "--quiet", "--output", out, "--output-format", "parquet"]
    else:
        command = [sys.executable, __file__, "--child", "--engine", engine, "--lake", args.lake, "--format", args.format,
                   "--threads", str(args.threads), "--memory-limit", args.memory_limit, "--out", out]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{engine} failed (status {status})")
    return wall, usage.ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", required=True)
    parser.add_argument("--format", choices=["parquet", "ndjson"], default="parquet")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4G")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--foci-hunt", default=str(ROOT / "target/release/foci-hunt"))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    import pyarrow.parquet as pq

    engines = args.engines.split(",")
    files = input_files(args.lake, args.format)
    size = sum(os.path.getsize(f) for f in files)
    print(f"{len(files)} {args.format} files, {size / 1e6:.1f} MB; {args.threads} threads, memory limit {args.memory_limit}; "
          f"{args.runs} runs after a warm-up", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for engine in engines:
            out = os.path.join(work, f"{engine}.parquet")
            samples = [measure(args, engine, out) for _ in range(args.runs + 1)][1:]
            rows_hash, rows = digest(pq.read_table(out))
            results[engine] = (statistics.median(w for w, _ in samples), max(m for _, m in samples), rows_hash, rows)
            print(f"  {engine}: median {results[engine][0]:.3f}s", flush=True)
    reference = results.get("foci-hunt")
    print()
    print("| engine | median wall (s) | peak RSS (MiB) | rows | rows hash | wall / foci-hunt | RSS / foci-hunt |")
    print("|---|---|---|---|---|---|---|")
    for engine, (wall, rss, rows_hash, rows) in results.items():
        ratio = f"{wall / reference[0]:.2f}" if reference else "-"
        memory_ratio = f"{rss / reference[1]:.2f}" if reference else "-"
        print(f"| {engine} | {wall:.3f} | {rss / (1 << 20):.0f} | {rows} | {rows_hash} | {ratio} | {memory_ratio} |")
    hashes = {h for _, _, h, _ in results.values()}
    if len(hashes) != 1:
        raise SystemExit("the engines disagree: see the rows hash column")
    print("\nevery engine returned the same rows")


if __name__ == "__main__":
    main()
