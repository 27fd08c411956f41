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
"""

import json
import sys
import time


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
    else:
        raise SystemExit(f"unknown task {job['task']!r}")


if __name__ == "__main__":
    main()
