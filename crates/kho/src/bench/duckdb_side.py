"""The DuckDB side of `kho bench`: the reference the benchmark compares Kho with.

Kho runs this script with the chosen Python, one job as JSON on stdin, and reads one
JSON object from stdout. Each job runs in its own process, so that its peak memory
(measured by Kho with wait4) is DuckDB's own. Times are taken here around the
statements alone, not the interpreter's start or the import.

Jobs:
  {"task": "version"}
  {"task": "ingest", "sql": "COPY (SELECT * FROM read_csv(...)) TO '...'", "parquet": "..."}
  {"task": "read", "parquet": "...", "filtered": ["SELECT ...", ...], "warmup": [...],
   "aggregate": "SELECT ...", "runs": N}
  {"task": "sql", "parquet": ["...", ...], "view": "<table>", "statements": ["SELECT ...", ...],
   "runs": N}
    the statements over a view of the Parquet files named like the table: one untimed
    run of each first, then N timed runs of them all; answers the fastest run's total,
    each statement's fastest time, each statement's rows (as objects by column) and
    the process's own peak memory where Linux tells it.
"""

import json
import sys
import time


def plain(value):
    """A value as JSON holds it: numbers and null as they are, anything else as text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def sql_task(con, job):
    files = ", ".join("'" + f.replace("'", "''") + "'" for f in job["parquet"])
    view = '"' + job["view"].replace('"', '""') + '"'
    con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}])")
    statements = job["statements"]

    def run(sql):
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [{n: plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]

    # One run first that is not timed, as on Kho's side.
    for sql in statements:
        run(sql)
    totals, fastest, rows = [], [float("inf")] * len(statements), []
    for _ in range(job["runs"]):
        rows, total = [], 0.0
        for i, sql in enumerate(statements):
            started = time.perf_counter()
            rows.append(run(sql))
            seconds = time.perf_counter() - started
            fastest[i] = min(fastest[i], seconds)
            total += seconds
        totals.append(total)
    answer = {"seconds": min(totals), "runs": totals, "statement_seconds": fastest, "rows": rows}
    peak = own_peak_rss()
    if peak is not None:
        answer["peak_rss"] = peak
    return answer


def own_peak_rss():
    """This process's peak resident memory in bytes (VmHWM, Linux), or None.

    Unlike ru_maxrss, VmHWM starts afresh at exec: it does not carry the peak of the
    process that started this one."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def main():
    job = json.load(sys.stdin)
    import duckdb

    if job["task"] == "version":
        print(json.dumps({"version": duckdb.__version__}))
        return
    con = duckdb.connect()
    if job["task"] == "ingest":
        started = time.perf_counter()
        con.execute(job["sql"])
        seconds = time.perf_counter() - started
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [job["parquet"]]).fetchone()[0]
        columns = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [job["parquet"]]).fetchall()
        print(json.dumps({"seconds": seconds, "rows": rows, "columns": [[c[0], c[1]] for c in columns]}))
    elif job["task"] == "read":
        path = job["parquet"].replace("'", "''")
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}')")
        filtered = job["filtered"]
        for sql in job["warmup"]:
            con.execute(sql).fetchall()
        times, counts = [], []
        for sql in filtered:
            started = time.perf_counter()
            rows = con.execute(sql).fetchall()
            times.append(time.perf_counter() - started)
            counts.append(len(rows))
        # One run first that is not timed, as on Kho's side.
        con.execute(job["aggregate"]).fetchall()
        aggregate_times, result = [], None
        for _ in range(job["runs"]):
            started = time.perf_counter()
            result = con.execute(job["aggregate"]).fetchall()
            aggregate_times.append(time.perf_counter() - started)
        print(
            json.dumps(
                {
                    "filtered_seconds": times,
                    "filtered_rows": counts,
                    "aggregate_seconds": aggregate_times,
                    "aggregate_rows": [[str(v) if v is not None else None for v in row] for row in result or []],
                }
            )
        )
    elif job["task"] == "sql":
        print(json.dumps(sql_task(con, job)))
    else:
        raise SystemExit(f"unknown task {job['task']!r}")


if __name__ == "__main__":
    main()
