"""Time the engine's shapes of work against a plain run: groups, intervals, comparisons.

On one Parquet file of ROWS rows (pred, target, user with about a million distinct users):

- ``eval -l mse``: the plain run every other case is measured against;
- ``eval -l mse --by user -f csv``: a million groups, every one written out;
- ``eval -l rmse --ci 0.95``: a bootstrap interval (1000 replicates);
- ``compare A B -l mse,rmse``: two files, a normal and a bootstrap interval of the difference,
  measured against ``eval -l mse,rmse`` of one file;
- ``eval -l mse --by user`` on keys drawn from 10^7 values: past the groups a run keeps, it stops
  with the limit named (exit 2), early and in bounded memory.

Values are checked first: the plain mse and the group means against polars (when installed).
Prints the median wall time and peak memory of ``--runs`` runs, and each case's ratio to the plain
run. Usage: ``python benchmarks/engine.py [--rows 3000000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
DATA = HERE / "data"


def make_data(rows: int) -> dict[str, Path]:
    """Three Parquet files: a model, a second model on the same rows, and keys from 10^7 values."""
    DATA.mkdir(exist_ok=True)
    paths = {name: DATA / f"engine_{name}_{rows}.parquet" for name in ("a", "b", "wide")}
    if all(path.exists() for path in paths.values()):
        return paths
    rng = np.random.default_rng(0)
    target = rng.normal(size=rows)
    for name, scale, users in (("a", 1.0, 10**6), ("b", 0.9, 10**6), ("wide", 1.0, 10**7)):
        table = pa.table(
            {
                "pred": target + scale * rng.normal(size=rows),
                "target": target,
                "user": rng.integers(0, users, rows),
            }
        )
        pq.write_table(table, paths[name])
    return paths


def losscli(*args: object) -> list[str]:
    return [sys.executable, "-m", "losscli", *(str(arg) for arg in args)]


def cases(paths: dict[str, Path]) -> dict[str, tuple[list[str], tuple[int, ...]]]:
    """Each case's command and the exit codes it may end with."""
    a, b = paths["a"], paths["b"]
    return {
        "plain mse": (losscli("eval", "-q", "-f", "json", "-l", "mse", a), (0,)),
        "--by user (10^6 groups)": (
            losscli("eval", "-q", "-f", "csv", "-l", "mse", "--by", "user", a),
            (0,),
        ),
        "--ci 0.95 rmse": (
            losscli("eval", "-q", "-f", "json", "-l", "rmse", "--ci", "0.95", a),
            (0,),
        ),
        "eval mse,rmse": (losscli("eval", "-q", "-f", "json", "-l", "mse,rmse", a), (0,)),
        "compare mse,rmse": (losscli("compare", "-q", "-f", "json", "-l", "mse,rmse", a, b), (0,)),
        # Past the limit of groups (from about 2.3 M rows) the run stops with exit 2.
        "--by user (10^7 keys)": (
            losscli("eval", "-q", "-f", "csv", "-l", "mse", "--by", "user", paths["wide"]),
            (0, 2),
        ),
    }


# Runs a command and reports its peak memory. A child's peak counts what its parent held when it
# started it (here: the outputs kept for checking), so the peak is taken under a fresh interpreter.
PEAK = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:], "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


def peak_of(command: list[str], expected: tuple[int, ...]) -> float:
    """The command's peak resident memory in MB."""
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    if done.returncode not in expected:
        raise SystemExit(f"unexpected exit: {' '.join(command)}\n{done.stderr}")
    return int(done.stdout.split()[-1]) / 1024


def measure(command: list[str], expected: tuple[int, ...]) -> tuple[float, str]:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read() if process.stdout else b""
    err = process.stderr.read() if process.stderr else b""
    status = process.wait()
    wall = time.perf_counter() - start
    if status not in expected:
        raise SystemExit(f"unexpected exit: {' '.join(command)}\n{err.decode()}")
    return wall, out.decode()


def check_values(path: Path, plain: str, grouped: str) -> None:
    """The plain mse and every group's mse equal polars' on the same file."""
    try:
        import polars as pl
    except ImportError:
        print("polars is not installed: values not checked")
        return
    import json

    frame = pl.read_parquet(path).with_columns(se=(pl.col("pred") - pl.col("target")) ** 2)
    mse = frame["se"].mean()
    found = json.loads(plain)["results"][0]["value"]
    if abs(found - mse) > 1e-9 * abs(mse):
        raise SystemExit(f"mse disagrees: {found!r} vs polars {mse!r}")
    means = dict(frame.group_by("user").agg(pl.col("se").mean()).iter_rows())
    rows = [row for row in csv.DictReader(io.StringIO(grouped)) if row["scope"] == "group"]
    if len(rows) != len(means):
        raise SystemExit(f"{len(rows)} groups, polars has {len(means)}")
    worst = max(abs(float(row["value"]) - means[int(row["user"])]) for row in rows)
    if worst > 1e-9 * max(1.0, mse):
        raise SystemExit(f"a group's mse differs from polars' by {worst}")
    print(f"values checked against polars: mse and {len(rows):,} group means")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_data(args.make)
        return
    subprocess.run([sys.executable, __file__, "--make", str(args.rows)], check=True)
    paths = make_data(args.rows)
    table = cases(paths)
    outputs = {name: measure(*case)[1] for name, case in table.items()}
    walls: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(args.runs):
        for name, case in table.items():
            walls[name].append(measure(*case)[0])
    # After the timing: a child's peak memory counts what this process held when it started it.
    check_values(paths["a"], outputs["plain mse"], outputs["--by user (10^6 groups)"])
    plain = statistics.median(walls["plain mse"])
    print(f"{os.cpu_count()} cores; {args.rows:,} Parquet rows; medians of {args.runs} runs")
    print(f"{'case':26} {'wall s':>8} {'peak MB':>8} {'x plain':>8}")
    for name in table:
        wall = statistics.median(walls[name])
        peak = peak_of(*table[name])
        print(f"{name:26} {wall:8.2f} {peak:8.0f} {wall / plain:8.2f}")
    pair = statistics.median(walls["compare mse,rmse"]) / statistics.median(walls["eval mse,rmse"])
    print(f"compare of two files / eval of one file, same losses: {pair:.2f}x")


if __name__ == "__main__":
    main()
