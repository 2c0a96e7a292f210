# %% [markdown]
# # Hunting FOCI token abuse from Python
#
# The detections are plain DataFusion SQL, so the same files run from the `datafusion` PyPI
# package (same major version as the crate). This notebook registers a Sentinel-shape NDJSON
# export and the FOCI list, runs `sql/foci_token_logins.sql` with parameter values, shows the
# alerts as a table and plots alerts per day. Run it as a script (`python examples/notebook.py`)
# or cell by cell (`# %%` markers: VS Code, Jupytext).

# %%
import argparse
import datetime
import json
import pathlib
import re

import pyarrow as pa
import pyarrow.compute as pc
from datafusion import SessionConfig, SessionContext, col, udf

ROOT = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--input", default=str(ROOT / "data/samples/signins.ndjson"), help="a Sentinel-shape NDJSON file")
parser.add_argument("--foci", default=str(ROOT / "data/foci_clients.csv"), help="the FOCI client list (CSV)")
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a detection parameter")
parser.add_argument("--out", help="write the alerts here as NDJSON")
parser.add_argument("--plot", help="write the alerts-per-day plot here (PNG)")
args, _ = parser.parse_known_args()

# %% [markdown]
# ## The session
# Sentinel's column names are PascalCase: keep identifiers as typed.

# %%
config = SessionConfig().set("datafusion.sql_parser.enable_ident_normalization", "false")
ctx = SessionContext(config)

# %% [markdown]
# ## Sign-ins, canonical as `foci-hunt` reads them
# Every text column is `''` when missing (KQL strings are never null) and `TimeGenerated` is a
# UTC timestamp. The columns are those the detections use.

# %%
TEXT_COLUMNS = [
    "AppDisplayName", "AppId", "AuthenticationProcessingDetails", "ClientAppUsed", "DeviceDetail",
    "HomeTenantId", "Identity", "IncomingTokenType", "IPAddress", "Location", "LocationDetails",
    "ResourceIdentity", "ResourceTenantId", "ResultDescription", "ResultType", "SessionId", "UserAgent",
    "UserPrincipalName",
]
schema = pa.schema([pa.field("TimeGenerated", pa.string())] + [pa.field(c, pa.string()) for c in TEXT_COLUMNS])
extension = "".join(pathlib.Path(args.input).suffixes)
ctx.register_json("signin_source", args.input, schema=schema, file_extension=extension)
columns = ", ".join(f"COALESCE(\"{c}\", '') AS \"{c}\"" for c in TEXT_COLUMNS)
ctx.sql(
    f"CREATE VIEW signin_logs AS SELECT CAST(NULLIF(\"TimeGenerated\", '') AS TIMESTAMP) AS \"TimeGenerated\", "
    f"{columns} FROM signin_source"
).collect()
ctx.register_csv("foci_clients", args.foci)

# %% [markdown]
# ## The functions the SQL needs
# `minute_index`: whole minutes since the epoch, floored, so that a difference counts minute
# boundaries like KQL's `datetime_diff('minute', …)`. `device_is_compliant`: true only for valid
# JSON whose `isCompliant` is `true` or `"true"`. `session_bucket`: the hash pass a session falls
# in (FNV-1a), used only when a hunt is split into passes to fit a memory limit.

# %%
NANOS_PER_MINUTE = 60_000_000_000


def minute_index(times: pa.Array) -> pa.Array:
    nanos = pc.cast(times, pa.int64())
    return pa.array([None if n is None else n // NANOS_PER_MINUTE for n in nanos.to_pylist()], pa.int64())


def compliant(text):
    try:
        detail = json.loads(text)
    except (TypeError, ValueError):
        return False
    return isinstance(detail, dict) and detail.get("isCompliant") in (True, "true")


def device_is_compliant(details: pa.Array) -> pa.Array:
    return pa.array([compliant(t) for t in details.to_pylist()], pa.bool_())


def fnv1a(text):
    hash_value = 0xCBF29CE484222325
    for byte in text.encode():
        hash_value = ((hash_value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return hash_value


def session_bucket(sessions: pa.Array, passes: pa.Array) -> pa.Array:
    pairs = zip(sessions.to_pylist(), passes.to_pylist())
    return pa.array([None if not n or n <= 0 else fnv1a(s or "") % n for s, n in pairs], pa.int64())


ctx.register_udf(udf(minute_index, [pa.timestamp("ns")], pa.int64(), "immutable", "minute_index"))
ctx.register_udf(udf(session_bucket, [pa.string(), pa.int64()], pa.int64(), "immutable", "session_bucket"))
ctx.register_udf(udf(device_is_compliant, [pa.string()], pa.bool_(), "immutable", "device_is_compliant"))

# %% [markdown]
# ## The rule, from the project's SQL files
# Each file's `-- @param NAME TYPE DEFAULT | meaning` header declares its parameters; values
# are bound as named placeholders, never spliced into the text.

# %%
SQL = ROOT / "sql"


def header(path):
    params, output = {}, []
    for line in path.read_text().splitlines():
        if line.startswith("-- @param "):
            name, kind, default = line[len("-- @param "):].split(" | ")[0].split()
            params[name] = (kind, None if default == "null" else default)
        elif line.startswith("-- @output "):
            output += [c.strip() for c in line[len("-- @output "):].split(",") if c.strip()]
    return params, output


def value(kind, text):
    if text is None:
        return {"timestamp": pa.scalar(None, pa.timestamp("ns")), "bigint": pa.scalar(None, pa.int64())}.get(kind, pa.scalar(None, pa.string()))
    if kind == "timestamp":
        return pa.scalar(pc.strptime(pa.array([re.sub(r"(\.\d{6})\d*", r"\1", text)]), "%Y-%m-%dT%H:%M:%S.%f%z", "ns")[0].as_py(), pa.timestamp("ns"))
    if kind == "bigint":
        return int(text)
    return text


settings = dict(s.split("=", 1) for s in args.set)
RULE = ["foci_token_requests", "foci_token_pairs", "foci_token_logins"]
unknown = set(settings) - {p for name in RULE for p in header(SQL / f"{name}.sql")[0]}
if unknown:
    raise SystemExit(f"unknown parameters: {sorted(unknown)}")


def run(name):
    path = SQL / f"{name}.sql"
    params, output = header(path)
    values = {n: value(kind, settings.get(n, default)) for n, (kind, default) in params.items()}
    return ctx.sql(path.read_text(), param_values=values), output


base, _ = run("foci_token_requests")
ctx.register_view("foci_token_requests", base)
pairs, _ = run("foci_token_pairs")
ctx.register_view("foci_token_pairs", pairs)
alerts, output_columns = run("foci_token_logins")
alerts = alerts.select(*[col(f'"{c}"') for c in output_columns])
table = pa.Table.from_batches(alerts.collect(), schema=alerts.schema())
print(f"{table.num_rows} alerts")

# %% [markdown]
# ## The alerts
# Times print as `foci-hunt` prints them: RFC 3339 UTC, 7 fractional digits (9 when needed).

# %%
def rfc3339(nanos):
    seconds, fraction = divmod(nanos, 1_000_000_000)
    stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction // 100:07d}" if fraction % 100 == 0 else f"{fraction:09d}"
    return f"{stamp}.{digits}Z"


for index, field in enumerate(table.schema):
    if pa.types.is_timestamp(field.type):
        nanos = pc.cast(table.column(index), pa.int64()).to_pylist()
        table = table.set_column(index, field.name, pa.array([None if n is None else rfc3339(n) for n in nanos], pa.string()))
rows = table.to_pylist()
for record in rows:
    print(record["FirstRequestTimeGenerated"], record["FirstAppDisplayName"], "->", record["SecondAppDisplayName"],
          f"{record['TimeDiff']} min", record["SessionId"])

if args.out:
    with open(args.out, "w") as out:
        for record in rows:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")

# %% [markdown]
# ## Alerts per day

# %%
per_day = {}
for record in rows:
    day = record["FirstRequestTimeGenerated"][:10]
    per_day[day] = per_day.get(day, 0) + 1
for day, count in sorted(per_day.items()):
    print(f"{day} {'#' * count} {count}")
if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = sorted(per_day)
    fig, axis = plt.subplots(figsize=(6, 3))
    axis.bar(days, [per_day[d] for d in days], color="#b03a2e")
    axis.set_title("FOCI token-login alerts per day")
    axis.set_ylabel("alerts")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)
