"""Time losscli against DuckDB and polars on the same file and loss, as whole processes.

    python3 benchmarks/run.py                 # 10 M rows, CSV and Parquet, 5 alternating runs
    python3 benchmarks/run.py --rows 1000000 --runs 3
    python3 benchmarks/run.py --losses bce,ce --runs 3
    python3 benchmarks/run.py --losses dice --runs 3

Losses: huber, mse and five (mse, mae, huber, log_cosh, smooth_l1 in one run) on a regression file
of --rows rows; bce on --rows probabilities (a few exactly 0 or 1, so the -100 log clamp counts)
with 0/1 labels; ce on a tenth of --rows rows of ten logits (logit_0 .. logit_9) and a class label;
by (mse --by grp) on --rows rows of the regression file with a key of 10^5 distinct ids, every group
written out (losscli as CSV, the peers sorted by key as CSV) and checked by the sum of the group
values; by_text is by with the ids written as text (id_000000 .. id_099999, as a file of user ids
has them); dice (Parquet only, whatever --rows says) on 1,000 images of 256x256 pixels, one row per
pixel (image, pred, target), each image's rows together but the images in a shuffled order and a few
of them split across row groups; wide (Parquet only) is ce over 60,000 rows of 10,000 float32 logit
columns in one row group, as pyarrow writes by default. For five the peers compute the five means in
one query (DuckDB) or one select (polars), each value checked; losscli is also timed with huber
alone and with log_cosh alone (the cheapest and the dearest of the five), as information. The
regression file is also timed gzip'd (csv.gz, level 6, made from the CSV): huber, mse and five,
every tool reading the compressed file itself, and read from a pipe (stdin.csv, stdin.parquet:
`cat FILE | TOOL`, losscli given `-`, polars reading `sys.stdin.buffer`); DuckDB is not timed there:
it cannot read Parquet from a pipe (the footer is at the end), and DuckDB 2.0.1 counted 171,509 of
the 1,000,000 rows of a piped CSV (`read_csv('/dev/stdin')`, with or without `parallel = false`).

Generates the data once under benchmarks/data/ (seeded), checks that every tool computes the same
value (1e-9 relative) before timing, then runs each command in turn (losscli, duckdb, polars, ...)
and prints median wall time, median peak RSS and the ratio of losscli to the faster peer. Peers that
are not installed are skipped. Quote ratios: absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
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
FIVE_LABELS = FIVE.split(",")
# Also timed beside five, as information: losscli with one of its losses alone.
ALONE = ("huber", "log_cosh")
# The five means in one pass over d = |prediction - target|, in losscli's order: log_cosh as
# d + log(1 + exp(-2d)) - log 2 (cosh overflows past d = 710), smooth_l1 with beta = 0.5 as
# 0.5 d^2 / beta below beta, d - beta / 2 above.
FIVE_SQL = (
    "avg(d * d), avg(d), avg(CASE WHEN d <= 1 THEN 0.5 * d * d ELSE d - 0.5 END), "
    "avg(d + LN(1 + EXP(-2 * d)) - LN(2)), avg(CASE WHEN d < 0.5 THEN d * d ELSE d - 0.25 END)"
)
FIVE_FROM = "(SELECT abs(prediction - target) AS d FROM {})"
FIVE_POLARS = (
    "import math; d = (pl.col('prediction') - pl.col('target')).abs(); "
    "expr = [(d * d).mean().alias('mse'), d.mean().alias('mae'), "
    "pl.when(d <= 1).then(0.5 * d * d).otherwise(d - 0.5).mean().alias('huber'), "
    "(d + (-2 * d).exp().log1p() - math.log(2)).mean().alias('log_cosh'), "
    "pl.when(d < 0.5).then(d * d).otherwise(d - 0.25).mean().alias('smooth_l1')]"
)

# PyTorch's BCELoss: each log clamped at >= -100. The CASE keeps LN away from 0 (DuckDB 2.0 gives
# -inf there and GREATEST then gives -100, but older releases raise an error instead).
BCE_SQL = (
    "avg(-(label * CASE WHEN prob > 0 THEN GREATEST(LN(prob), -100) ELSE -100 END "
    "+ (1 - label) * CASE WHEN prob < 1 THEN GREATEST(LN(1 - prob), -100) ELSE -100 END))"
)
# log(0) is -inf in polars, which the clip turns into -100.
BCE_POLARS = (
    "p = pl.col('prob'); t = pl.col('label'); "
    "expr = (-(t * p.log().clip(lower_bound=-100) "
    "+ (1 - t) * (1 - p).log().clip(lower_bound=-100))).mean()"
)
CLASSES = 10
LOGITS = [f"logit_{k}" for k in range(CLASSES)]


def ce_queries(classes: int) -> tuple[str, str, str]:
    """PyTorch's CrossEntropyLoss on class indices, logsumexp(logits) - logit_label, with the
    row's largest logit m (added by the FROM around the file) taken out before EXP: DuckDB's
    aggregate, its FROM and polars' expression."""
    logits = [f"logit_{k}" for k in range(classes)]
    total = " + ".join(f"EXP({c} - m)" for c in logits)
    pick = " ".join(f"WHEN {k} THEN {c}" for k, c in enumerate(logits))
    sql = f"avg(m + LN({total}) - CASE label {pick} END)"
    source = f"(SELECT *, GREATEST({', '.join(logits)}) AS m FROM {{}})"
    expression = (
        f"logits = [pl.col(f'logit_{{k}}') for k in range({classes})]; "
        "m = pl.max_horizontal(logits); "
        "picked = pl.coalesce(pl.when(pl.col('label') == k).then(c) "
        "for k, c in enumerate(logits)); "
        "expr = (m + pl.sum_horizontal((c - m).exp() for c in logits).log() - picked).mean()"
    )
    return sql, source, expression


CE_SQL, CE_FROM, CE_POLARS = ce_queries(CLASSES)
# wide: ce over WIDE_CLASSES float32 logit columns (pyarrow's defaults: one row group), Parquet.
WIDE_CLASSES, WIDE_ROWS = 10_000, 60_000
IMAGES = 1_000
SIDE = 256
PIXELS = SIDE * SIDE
# Mean over images of 1 - (2 TP + smooth) / (SP + ST + smooth), losscli's default smooth 1e-6; the
# per-image sums (DICE_FROM around the file, DICE_POLARS_BY on the scan) are taken in float64.
DICE_SQL = "avg(1 - (2 * tp + 1e-6) / (sp + st + 1e-6))"
DICE_FROM = (
    "(SELECT image, sum(pred::DOUBLE * target) AS tp, sum(pred::DOUBLE) AS sp, "
    "sum(target::DOUBLE) AS st FROM {} GROUP BY image)"
)
DICE_POLARS = (
    "p = pl.col('pred').cast(pl.Float64); t = pl.col('target').cast(pl.Float64); "
    "expr = (1 - (2 * pl.col('tp') + 1e-6) / (pl.col('sp') + pl.col('st') + 1e-6)).mean()"
)
DICE_POLARS_BY = ".group_by('image').agg(tp=(p * t).sum(), sp=p.sum(), st=t.sum())"
# Which generated file each loss reads, in which formats, and the columns losscli is told to use.
DATASET = {
    "huber": "reg",
    "mse": "reg",
    "five": "reg",
    "bce": "bce",
    "ce": "ce",
    "by": "grp",
    "by_text": "grp_text",
    "dice": "dice",
    "wide": "wide",
}
GROUPS = 100_000
BY_SQL = (
    "COPY (SELECT grp, avg((prediction - target)^2) AS mse FROM {} GROUP BY grp ORDER BY grp) "
    "TO '/dev/stdout' (FORMAT csv, HEADER)"
)
BY_POLARS = (
    "import sys; "
    "{}.group_by('grp').agg(mse=((pl.col('prediction') - pl.col('target')) ** 2)"
    ".mean()).sort('grp').collect().write_csv(sys.stdout)"
)
FORMATS = {
    "dice": ("parquet",),
    "wide": ("parquet",),
    "reg": ("csv", "csv.gz", "parquet", "stdin.csv", "stdin.parquet"),
}
# A file read from a pipe: the file of the format after the dot.
PIPED = "stdin."
COLUMNS = {
    "bce": ["-p", "prob", "-t", "label"],
    "ce": ["-p", "logit_*", "-t", "label"],
    "wide": ["-l", "ce", "-p", "logit_*", "-t", "label"],
    "dice": ["-p", "pred", "-t", "target", "--col", "sample=image"],
    "by": ["-l", "mse", "--by", "grp"],
    "by_text": ["-l", "mse", "--by", "grp"],
}
GROUPED = ("by", "by_text")


def rows_of(dataset: str, rows: int) -> int:
    if dataset == "dice":
        return IMAGES * PIXELS
    if dataset == "wide":
        return WIDE_ROWS
    return rows // CLASSES if dataset == "ce" else rows


def columns_of(dataset: str, rng, n: int) -> dict[str, object]:
    import numpy as np

    if dataset == "bce":
        prob = 1 / (1 + np.exp(-rng.normal(0, 2, n)))
        label = (rng.random(n) < prob).astype(np.int64)
        exact = rng.choice(n, size=max(n // 10_000, 2), replace=False)
        prob[exact] = np.arange(len(exact)) % 2  # 0.0 and 1.0, against either label
        return {"prob": prob, "label": label}
    if dataset == "ce":
        found: dict[str, object] = {c: rng.normal(0, 2, n) for c in LOGITS}
        found["label"] = rng.integers(0, CLASSES, n)
        return found
    target = rng.normal(0, 2, n)
    found = {"prediction": target + rng.standard_t(3, n), "target": target}
    if dataset == "grp":
        found["grp"] = rng.integers(0, GROUPS, n)
    if dataset == "grp_text":
        import pyarrow as pa

        names = pa.array([f"id_{k:06d}" for k in range(GROUPS)])
        found["grp"] = names.take(pa.array(rng.integers(0, GROUPS, n)))
    return found


def make_data(rows: int, dataset: str = "reg") -> dict[str, Path]:
    rows = rows_of(dataset, rows)
    formats = FORMATS.get(dataset, ("csv", "parquet"))
    paths = {fmt: DATA / f"{dataset}_{rows}.{fmt.removeprefix(PIPED)}" for fmt in formats}
    written = {fmt: path for fmt, path in paths.items() if fmt in ("csv", "parquet")}
    if not all(path.exists() for path in written.values()):
        generate(written, rows, dataset)
    if "csv.gz" in paths and not paths["csv.gz"].exists():
        compress(paths["csv"], paths["csv.gz"])
    return paths


def generate(paths: dict[str, Path], rows: int, dataset: str) -> None:
    # Write in a fresh process: the peak RSS wait4 reports for a child is never below its parent's
    # own peak, so this process must not hold NumPy, Arrow or the generated tables.
    writer = multiprocessing.get_context("spawn").Process(
        target=write_data, args=(paths, rows, dataset)
    )
    writer.start()
    writer.join()
    if writer.exitcode != 0:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise SystemExit(f"generating {dataset} data failed")


def compress(source: Path, target: Path) -> None:
    """``source`` gzip'd at level 6, gzip's own default, as a model's output is often stored."""
    import gzip
    import shutil

    partial = target.with_suffix(".partial")
    with source.open("rb") as raw, gzip.open(partial, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, 1 << 20)
    partial.replace(target)


def write_data(paths: dict[str, Path], rows: int, dataset: str) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    if dataset == "dice":
        write_masks(paths["parquet"], rng)
        return
    if dataset == "wide":
        columns = {
            f"logit_{k}": rng.normal(0, 2, rows).astype(np.float32) for k in range(WIDE_CLASSES)
        }
        columns["label"] = rng.integers(0, WIDE_CLASSES, rows)
        pq.write_table(pa.table(columns), paths["parquet"])
        return
    writer_csv = writer_pq = None
    step = 1_000_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        table = pa.table(columns_of(dataset, rng, n))
        if writer_csv is None:
            writer_csv = pa_csv.CSVWriter(paths["csv"], table.schema)
            writer_pq = pq.ParquetWriter(paths["parquet"], table.schema)
        writer_csv.write_table(table)
        writer_pq.write_table(table)
    writer_csv.close()
    writer_pq.close()


def write_masks(path: Path, rng) -> None:
    """IMAGES images in a shuffled order, a batch of images at a time (bounded memory); a few
    batches are written in two pieces cut inside one image, whose pixels then span two row groups.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk, split = 10, 20  # images per batch; every split-th batch cut inside an image
    schema = pa.schema([("image", pa.int32()), ("pred", pa.float32()), ("target", pa.uint8())])
    order = rng.permutation(IMAGES).astype(np.int32)
    with pq.ParquetWriter(path, schema) as writer:
        for number, start in enumerate(range(0, IMAGES, chunk)):
            ids = order[start : start + chunk]
            pred, target = masks(rng, len(ids))
            table = pa.table(
                [pa.array(np.repeat(ids, PIXELS)), pa.array(pred), pa.array(target)],
                schema=schema,
            )
            if number % split == 0:
                cut = int(rng.integers(len(ids))) * PIXELS + int(rng.integers(1, PIXELS))
                writer.write_table(table.slice(0, cut))
                table = table.slice(cut)
            writer.write_table(table)


def masks(rng, n: int):
    """n blobs (a circle with a wavy edge; about 2% of images empty) and soft predictions of them
    from a shifted, resized blob with a blurred edge and pixel noise, flattened row by row."""
    import numpy as np

    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)

    def blob(cx, cy, radius, lobes, wave, phase):
        dx, dy = x - cx[:, None, None], y - cy[:, None, None]
        angle = np.arctan2(dy, dx)
        edge = radius[:, None, None] * (1 + wave[:, None, None] * np.sin(lobes * angle + phase))
        return edge - np.hypot(dx, dy)  # > 0 inside, in pixels

    cx, cy = rng.uniform(64, SIDE - 64, (2, n))
    radius = rng.uniform(8, 60, n) * (rng.random(n) > 0.02)
    lobes = rng.integers(2, 6, n)[:, None, None]
    wave, phase = rng.uniform(0, 0.3, n), rng.uniform(0, 2 * np.pi, n)[:, None, None]
    target = blob(cx, cy, radius, lobes, wave, phase) > 0
    shift = rng.normal(0, 3, (2, n))
    inside = blob(
        cx + shift[0], cy + shift[1], radius * rng.uniform(0.85, 1.15, n), lobes, wave, phase
    )
    logit = np.clip(
        inside / rng.uniform(1, 4, n)[:, None, None] + rng.normal(0, 1, inside.shape), -30, 30
    )
    pred = (1 / (1 + np.exp(-logit))).astype(np.float32)
    return pred.reshape(-1), target.astype(np.uint8).reshape(-1)


def commands(path: Path, fmt: str, loss: str) -> dict[str, list[str]]:
    if fmt.startswith(PIPED):
        return piped(path, fmt.removeprefix(PIPED), loss)
    reader = "read_csv" if fmt.startswith("csv") else "read_parquet"  # .csv.gz too, for both
    scan = "scan_csv" if fmt.startswith("csv") else "scan_parquet"
    return queries(path, loss, f"{reader}('{path}')", f"pl.{scan}('{path}')")


def piped(path: Path, fmt: str, loss: str) -> dict[str, list[str]]:
    """Each tool's command reading ``path`` from a pipe: ``cat path | command``."""
    found = queries(Path("-"), loss, None, f"pl.read_{fmt}(sys.stdin.buffer).lazy()")
    # The pipeline's status is the tool's; cat's peak memory is far below any tool's.
    return {
        tool: ["sh", "-c", 'cat "$0" | "$@"', str(path), *command]
        for tool, command in found.items()
    }


def queries(
    path: Path,
    loss: str,
    source: str | None,
    frame: str,
) -> dict[str, list[str]]:
    """losscli's command on ``path``, DuckDB's query FROM ``source`` (None: not timed) and
    polars' select on the lazy frame ``frame``."""
    python = sys.executable
    sql = {
        "huber": HUBER_SQL,
        "mse": MSE_SQL,
        "five": FIVE_SQL,
        "bce": BCE_SQL,
        "ce": CE_SQL,
        "dice": DICE_SQL,
    }.get(loss)
    expression = {
        "huber": HUBER_POLARS,
        "mse": MSE_POLARS,
        "five": FIVE_POLARS,
        "bce": BCE_POLARS,
        "ce": CE_POLARS,
        "dice": DICE_POLARS,
    }.get(loss)
    found = {"losscli": losscli_command(FIVE if loss == "five" else loss, path)}
    if loss == "wide":
        return found | wide_commands(path)
    if loss in GROUPED:
        return found | by_commands(source, frame)
    # Five prints its five values as a JSON list, in losscli's order.
    row = "list(_.fetchall()[0])" if loss == "five" else "_.fetchall()[0][0]"
    if sql and source is not None and _has("duckdb"):
        if loss in ("ce", "wide", "dice", "five"):
            wide_from = ce_queries(WIDE_CLASSES)[1] if loss == "wide" else CE_FROM
            around = {"dice": DICE_FROM, "five": FIVE_FROM}.get(loss, wide_from)
            source = around.format(source)
        found["duckdb"] = [
            python,
            "-c",
            # DuckDB 2 draws a progress bar on stdout on long queries, even into a pipe.
            "import duckdb, json; duckdb.sql('SET enable_progress_bar = false'); "
            f'_ = duckdb.sql("SELECT {sql} FROM {source}"); print(json.dumps({row}))',
        ]
    if expression and _has("polars"):
        by = DICE_POLARS_BY if loss == "dice" else ""
        value = "list(_.row(0))" if loss == "five" else "_.item()"
        found["polars"] = [
            python,
            "-c",
            f"import polars as pl, json, sys; {expression}; "
            f"_ = {frame}{by}.select(expr).collect(); print(json.dumps({value}))",
        ]
    if loss == "five":
        found |= {alone: losscli_command(alone, path) for alone in ALONE}
    return found


def wide_commands(path: Path) -> dict[str, list[str]]:
    """The peers' ce over WIDE_CLASSES columns: the queries (half a megabyte, more than one
    argument of a command may hold) are made by ce_queries in the peer's own process."""
    queries = f"import sys; sys.path.insert(0, {str(HERE)!r}); from run import ce_queries; "
    queries += f"sql, source, expression = ce_queries({WIDE_CLASSES}); "
    found = {}
    if _has("duckdb"):
        found["duckdb"] = [
            sys.executable,
            "-c",
            # A sum of 10,000 terms nests deeper than DuckDB's default limit of 1,000.
            queries + "import duckdb; duckdb.sql('SET enable_progress_bar = false'); "
            "duckdb.sql('SET max_expression_depth TO 100000'); "
            f"source = source.format(\"read_parquet('{path}')\"); "
            "print(duckdb.sql(f'SELECT {sql} FROM {source}').fetchall()[0][0])",
        ]
    if _has("polars"):
        found["polars"] = [
            sys.executable,
            "-c",
            queries + "import polars as pl; exec(expression); "
            f"print(pl.scan_parquet('{path}').select(expr).collect().item())",
        ]
    return found


def by_commands(source: str | None, frame: str) -> dict[str, list[str]]:
    """The peers' mse per group, every group written as CSV."""
    found = {}
    if source is not None and _has("duckdb"):
        sql = BY_SQL.format(source)
        found["duckdb"] = [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.sql('SET enable_progress_bar = false'); duckdb.sql(\"{sql}\")",
        ]
    if _has("polars"):
        found["polars"] = [
            sys.executable,
            "-c",
            "import polars as pl; " + BY_POLARS.format(frame),
        ]
    return found


def losscli_command(loss: str, path: Path) -> list[str]:
    if loss in GROUPED:
        grouped = [sys.executable, "-m", "losscli", "eval", "-q", "-f", "csv"]
        return [*grouped, *COLUMNS[loss], str(path)]
    eval_ = [sys.executable, "-m", "losscli", "eval", "-q", "-f", "json"]
    if loss not in COLUMNS or "-l" not in COLUMNS[loss]:
        eval_ += ["--loss", loss]
    return [*eval_, *COLUMNS.get(loss, []), str(path)]


def compile_losscli() -> None:
    """Byte-compile the losscli that ``python -m losscli`` imports, as installing it does.

    Without cached bytecode (a source checkout under PYTHONDONTWRITEBYTECODE, say) every run
    would compile losscli's modules afresh, a cost an installed losscli never pays.
    """
    where = subprocess.run(
        [sys.executable, "-c", "import losscli, os; print(os.path.dirname(losscli.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", where], check=True)


def _has(module: str) -> bool:
    probe = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(probe, capture_output=True).returncode == 0


# Runs a command under a fresh interpreter, which times it and takes its peak memory: a child's
# peak is never below that of the process that started it, and this one grows as it checks the
# tools' outputs (the 'by' case's 10^5 groups took it to 148 MB, and with it every peak after).
LAUNCH = (
    "import json, resource, subprocess, sys, time; start = time.perf_counter(); "
    "done = subprocess.run(sys.argv[1:], capture_output=True); "
    "wall = time.perf_counter() - start; sys.stdout.buffer.write(done.stdout); "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "sys.stderr.write(json.dumps([wall, peak, done.returncode, done.stderr.decode()]))"
)


def measure(command: list[str]) -> tuple[float, float, str]:
    """The command's wall time in seconds, its peak resident memory in MB, and its output."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, *command], capture_output=True)
    if done.returncode != 0:  # the command could not start (not installed, say)
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode()}")
    wall, peak, code, err = json.loads(done.stderr)
    if code != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{err}")
    return wall, peak / 1024, done.stdout.decode()


def value_of(tool: str, output: str, label: str | None = None) -> float:
    """The value a tool printed; for losscli, its first result's or the one labelled ``label``;
    for groups written as CSV, the sum of the groups' values."""
    if output.startswith(("label,", "grp,")):
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(output)))
        key = "value" if tool == "losscli" else "mse"
        return sum(float(row[key]) for row in rows if row.get("scope", "group") == "group")
    if tool not in ("duckdb", "polars"):
        results = json.loads(output)["results"]
        return next(r["value"] for r in results if label in (None, r["label"]))
    value = json.loads(output)
    return float(value if label is None else value[FIVE_LABELS.index(label)])


def check(loss: str, tool: str, output: str, ours: str) -> None:
    """Stop unless ``tool`` printed losscli's value (1e-9 relative); five's peers give all five
    values, and losscli's single losses beside five their own."""
    if loss != "five" or tool == "losscli":
        labels: list[str | None] = [None]
    else:
        labels = [tool] if tool in ALONE else list(FIVE_LABELS)
    for label in labels:
        reference = value_of("losscli", ours, label)
        found = value_of("losscli", output) if tool in ALONE else value_of(tool, output, label)
        if abs(found - reference) > 1e-9 * abs(reference):
            named = f" ({label})" if label else ""
            raise SystemExit(f"{tool} disagrees{named}: {found!r} vs losscli {reference!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="ce reads a tenth of them; dice is fixed"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default="csv,csv.gz,parquet,stdin.csv,stdin.parquet")
    parser.add_argument("--losses", default=",".join(DATASET), help=", ".join(DATASET))
    args = parser.parse_args()
    losses = args.losses.split(",")
    unknown = [loss for loss in losses if loss not in DATASET]
    if unknown:
        parser.error(f"unknown loss {', '.join(unknown)}; choose from {', '.join(DATASET)}")
    paths = {loss: make_data(args.rows, DATASET[loss]) for loss in losses}
    compile_losscli()
    print(f"{os.cpu_count()} cores; medians of {args.runs} alternating runs")
    print(
        f"{'file':13} {'loss':6} {'rows':>10} {'tool':8} {'wall s':>8} {'peak MB':>8} {'ratio':>6}"
    )
    for fmt in args.formats.split(","):
        for loss in losses:
            if fmt not in paths[loss]:
                continue
            rows = rows_of(DATASET[loss], args.rows)
            table = commands(paths[loss][fmt], fmt, loss)
            outputs = {}
            for tool, command in list(table.items()):
                try:
                    outputs[tool] = measure(command)[2]
                except SystemExit as failure:
                    if tool == "losscli":
                        raise
                    # DuckDB 2.0 dies on the 10,000-term sums of wide: say so, time the rest.
                    print(f"{fmt:13} {loss:6} {tool} failed: {str(failure).splitlines()[-1]}")
                    del table[tool]
            for tool, output in outputs.items():
                check(loss, tool, output, outputs["losscli"])
            walls: dict[str, list[float]] = {tool: [] for tool in table}
            peaks: dict[str, list[float]] = {tool: [] for tool in table}
            for _ in range(args.runs):
                for tool, command in table.items():
                    wall, peak, _ = measure(command)
                    walls[tool].append(wall)
                    peaks[tool].append(peak)
            medians = {tool: statistics.median(times) for tool, times in walls.items()}
            peers = [medians[t] for t in medians if t in ("duckdb", "polars")]
            best = min(peers) if peers else float("nan")
            for tool in table:
                ratio = medians[tool] / best if peers else float("nan")
                print(
                    f"{fmt:13} {loss:6} {rows:>10,} {tool:8} {medians[tool]:8.2f} "
                    f"{statistics.median(peaks[tool]):8.0f} {ratio:6.2f}"
                )


if __name__ == "__main__":
    main()
