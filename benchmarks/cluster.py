"""Time losscli on one process against a Dask cluster on the same Parquet dataset.

    python3 benchmarks/cluster.py                       # 40 files, 20 M rows, 2 workers
    python3 benchmarks/cluster.py --rows 2000000 --workers 2 --runs 3

Generates --files Parquet files of --rows rows in all (pred, target, a 100-value group), one row
group each, under benchmarks/data/cluster/ (seeded), then times, alternating:

- local:   losscli.evaluate(dataset, ...) in this process;
- cluster: the same call with scheduler= a client of a LocalCluster of --workers worker processes
  (started once, before the timing: its start-up is reported on its own).

Each case is `-l mse,rmse,mae` and the same with `--by group --ci 0.95`. It checks that both give
the same values to 1e-12 before timing. The overhead per task is measured on --files tiny files
of 10 rows (the whole run on the cluster, divided by the tasks), and what travels per task is
measured by Dask's own serialisation of a task's job and unit ("sent B"), and of the tallies it
returns ("returned B").
Quote ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
DATA = HERE / "data" / "cluster"
CASES = {
    "plain": dict(losses="mse,rmse,mae"),
    "by+ci": dict(losses="mse,rmse,mae", by="group", ci=0.95),
}


def make_dataset(root: Path, files: int, rows: int, seed: int = 0) -> Path:
    """``files`` Parquet files of ``rows`` rows in all, made once."""
    marker = root / f"_done_{files}_{rows}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.parquet"):
        old.unlink()
    rng = np.random.default_rng(seed)
    each = rows // files
    for index in range(files):
        target = rng.normal(size=each)
        table = pa.table(
            {
                "pred": target + rng.normal(scale=0.5, size=each),
                "target": target,
                "group": rng.integers(0, 100, size=each),
            }
        )
        pq.write_table(table, root / f"part-{index:03d}.parquet", row_group_size=each)
    marker.touch()
    return root


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def same(local: dict, clustered: dict) -> None:
    for mine, theirs in zip(local["results"], clustered["results"], strict=True):
        assert abs(mine["value"] - theirs["value"]) <= 1e-12 * max(1.0, abs(mine["value"]))


def task_bytes(dataset: Path, options: dict) -> tuple[int, int]:
    """Bytes of one task as sent (job and unit) and of the tallies it sends back."""
    from distributed.protocol import serialize_bytes

    import losscli
    from losscli.cluster import UnitJob, run_unit
    from losscli.engine.tally import Options
    from losscli.io.chunks import ReadPlan
    from losscli.io.sources import expand_inputs
    from losscli.io.units import units_of
    from losscli.losses import parse_specs

    requests = parse_specs([options["losses"]])
    by = ("group",) if options.get("by") else ()
    plan = ReadPlan(roles={"pred": ("pred",), "target": ("target",)}, groups=by)
    analysis = Options(level=options.get("ci"), grouped=bool(by))
    job = UnitJob(requests, analysis, plan, 1 << 17, True)
    unit = units_of(expand_inputs([str(dataset)]))[0]
    partial = run_unit(job, unit)
    assert losscli  # the package under test is the one imported here
    return len(serialize_bytes((job, unit))), len(serialize_bytes(partial))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import distributed

    import losscli

    dataset = make_dataset(DATA, args.files, args.rows)
    tiny = make_dataset(DATA / "tiny", args.files, args.files * 10)
    start = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    print(f"cluster of {args.workers} workers started in {time.perf_counter() - start:.2f} s")

    print(
        f"{'case':8} {'rows':>12} {'files':>5} {'local s':>8} {'cluster s':>9} {'speed-up':>8} "
        f"{'sent B':>8} {'returned B':>10}"
    )
    for name, options in CASES.items():
        local = losscli.evaluate(str(dataset), **options).to_dict()
        same(local, losscli.evaluate(str(dataset), scheduler=client, **options).to_dict())
        times: dict[str, list[float]] = {"local": [], "cluster": []}
        for _ in range(args.runs):
            times["local"].append(timed(lambda o=options: losscli.evaluate(str(dataset), **o))[0])
            times["cluster"].append(
                timed(lambda o=options: losscli.evaluate(str(dataset), scheduler=client, **o))[0]
            )
        one, many = statistics.median(times["local"]), statistics.median(times["cluster"])
        sent, returned = task_bytes(dataset, options)
        print(
            f"{name:8} {args.rows:>12,} {args.files:>5} {one:8.2f} {many:9.2f} "
            f"{one / many:8.2f} {sent:>8,} {returned:>10,}"
        )

    tiny_times = [
        timed(lambda: losscli.evaluate(str(tiny), "mse", scheduler=client))[0]
        for _ in range(args.runs)
    ]
    overhead = statistics.median(tiny_times) / args.files
    print(f"overhead per task ({args.files} tasks of 10 rows): {overhead * 1000:.1f} ms")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
