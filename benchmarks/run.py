"""Time losscli against DuckDB and polars on the same file and loss, as whole processes.

    python3 benchmarks/run.py                 # 10 M rows, CSV and Parquet, 5 alternating runs
    python3 benchmarks/run.py --rows 1000000 --runs 3

Generates the data once under benchmarks/data/ (seeded), checks that every tool computes the same
value (1e-9 relative) before timing, then runs each command in turn (losscli, duckdb, polars, ...)
and prints median wall time, median peak RSS and the ratio of losscli to the faster peer. Peers that
are not installed are skipped. Quote ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"

HUBER_SQL = (
    "avg(CASE WHEN abs(prediction - target) <= 1 THEN 0.5 * (prediction - target)^2 "
    "ELSE abs(prediction - target) - 0.5 END)"
)
MSE_SQL = "avg((prediction - target)^2)"
HUBER_POLARS = (
    "d = (pl.col('prediction') - pl.col('target')).abs(); "
    "expr = pl.when(d <= 1).then(0.5 * d * d).otherwise(d - 0.5).mean()"
)
MSE_POLARS = "expr = ((pl.col('prediction') - pl.col('target')) ** 2).mean()"
FIVE = "mse,mae,huber,log_cosh,smooth_l1:beta=0.5"


def make_data(rows: int) -> dict[str, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    paths = {"csv": DATA / f"reg_{rows}.csv", "parquet": DATA / f"reg_{rows}.parquet"}
    if all(path.exists() for path in paths.values()):
        return paths
    rng = np.random.default_rng(0)
    writer_csv = writer_pq = None
    step = 1_000_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        target = rng.normal(0, 2, n)
        table = pa.table({"prediction": target + rng.standard_t(3, n), "target": target})
        if writer_csv is None:
            writer_csv = pa_csv.CSVWriter(paths["csv"], table.schema)
            writer_pq = pq.ParquetWriter(paths["parquet"], table.schema)
        writer_csv.write_table(table)
        writer_pq.write_table(table)
    writer_csv.close()
    writer_pq.close()
    return paths


def commands(path: Path, fmt: str, loss: str) -> dict[str, list[str]]:
    python = sys.executable
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    scan = "scan_csv" if fmt == "csv" else "scan_parquet"
    sql = {"huber": HUBER_SQL, "mse": MSE_SQL}.get(loss)
    expression = {"huber": HUBER_POLARS, "mse": MSE_POLARS}.get(loss)
    found = {
        "losscli": [
            python,
            "-m",
            "losscli",
            "eval",
            "-q",
            "-f",
            "json",
            "--loss",
            FIVE if loss == "five" else loss,
            str(path),
        ],
    }
    if sql and _has("duckdb"):
        found["duckdb"] = [
            python,
            "-c",
            'import duckdb; print(duckdb.sql("SELECT '
            f"{sql} FROM {reader}('{path}')\").fetchall()[0][0])",
        ]
    if expression and _has("polars"):
        found["polars"] = [
            python,
            "-c",
            f"import polars as pl; {expression}; "
            f"print(pl.{scan}('{path}').select(expr).collect().item())",
        ]
    return found


def _has(module: str) -> bool:
    probe = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def measure(command: list[str]) -> tuple[float, float, str]:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read() if process.stdout else b""
    err = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{err.decode()}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def value_of(tool: str, output: str) -> float:
    if tool == "losscli":
        return json.loads(output)["results"][0]["value"]
    return float(output.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--losses", default="huber,mse,five")
    args = parser.parse_args()
    paths = make_data(args.rows)
    print(f"{args.rows:,} rows; {os.cpu_count()} cores; medians of {args.runs} alternating runs")
    print(f"{'file':8} {'loss':6} {'tool':8} {'wall s':>8} {'peak MB':>8} {'ratio':>6}")
    for fmt in args.formats.split(","):
        for loss in args.losses.split(","):
            table = commands(paths[fmt], fmt, loss)
            values = {tool: value_of(tool, measure(cmd)[2]) for tool, cmd in table.items()}
            reference = values["losscli"]
            for tool, found in values.items():
                if abs(found - reference) > 1e-9 * abs(reference):
                    raise SystemExit(f"{tool} disagrees: {found!r} vs losscli {reference!r}")
            walls: dict[str, list[float]] = {tool: [] for tool in table}
            peaks: dict[str, list[float]] = {tool: [] for tool in table}
            for _ in range(args.runs):
                for tool, command in table.items():
                    wall, peak, _ = measure(command)
                    walls[tool].append(wall)
                    peaks[tool].append(peak)
            medians = {tool: statistics.median(times) for tool, times in walls.items()}
            peers = [medians[t] for t in medians if t != "losscli"]
            best = min(peers) if peers else float("nan")
            for tool in table:
                ratio = medians[tool] / best if peers else float("nan")
                print(
                    f"{fmt:8} {loss:6} {tool:8} {medians[tool]:8.2f} "
                    f"{statistics.median(peaks[tool]):8.0f} {ratio:6.2f}"
                )


if __name__ == "__main__":
    main()
