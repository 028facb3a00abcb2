"""The command line: parses options into an ``evaluate`` call and renders its report.

Every failure a user can fix is one or two lines on stderr and exit code 2; a bug is exit code 3
with a pointer to ``--debug``. Heavy modules are imported inside the commands so ``--help``
stays fast. No ``from __future__ import annotations`` here: Typer would then evaluate each
option's annotation text at every run, 5 ms more than Python evaluating them once at import.
"""

import contextlib
import copy
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer

from losscli import __version__, runtime
from losscli.errors import (
    EXIT_CHECK_FAILED,
    EXIT_INTERNAL,
    EXIT_USAGE,
    LossCliError,
    UsageError,
    capped,
    option,
)

EXIT_INTERRUPTED = 130
ROOT_HELP = (
    "Evaluate loss functions on model predictions: exactly, fast, in bounded memory.\n\n"
    "Start with 'losscli list', then 'losscli eval --loss mse preds.csv'. Add --debug (or set "
    "LOSSCLI_DEBUG=1) to see the traceback of an internal error."
)
# Rich assumes 80 columns when stdout is not a terminal and wraps wide tables into narrow strips;
# a file or a pipe has no width, so there a table takes its natural width.
UNBOUNDED_WIDTH = 10_000
# Below this many columns `losscli list` puts aliases under the name and leaves out the family.
WIDE_TABLE = 120
HELP_NAMES = ["-h", "--help"]

app = typer.Typer(
    name="losscli",
    help=ROOT_HELP,
    add_completion=True,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_NAMES},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"losscli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    pass


def _complete_losses(incomplete: str) -> list[str]:
    """Loss names and aliases for the last item of a comma list (``mse,hu`` -> ``mse,huber``)."""
    from losscli.losses.registry import all_names, load_installed

    with contextlib.suppress(LossCliError):
        load_installed()
    head, comma, last = incomplete.rpartition(",")
    return [f"{head}{comma}{name}" for name in all_names() if name.startswith(last.lower())]


def _complete_columns(ctx: typer.Context, incomplete: str) -> list[str]:
    """The columns of the first FILE already typed (none while no file is given)."""
    files = _typed_files(ctx)
    if not files:
        return []
    from losscli.io.stream import Opened

    try:
        with Opened(ctx.params.get("input_format")) as opened:
            names = list(opened.open(files[0]).first.names)
    except Exception:  # a file not readable yet: nothing to offer, never an error while typing
        return []
    head, comma, last = incomplete.rpartition(",")
    return [f"{head}{comma}{name}" for name in names if name.startswith(last)]


# Options whose value is a file that is not the data: never the file whose columns complete.
OTHER_FILES = {"--targets", "--baseline", "--per-row", "-o", "--output", "--plugin", "--config"}


def _typed_files(ctx: typer.Context) -> list[str]:
    """The data files on the command line being completed. Click parses the words before the
    one being completed with an option still waiting for its value, which loses the FILEs; the
    shell's words (COMP_WORDS, which click's bash, zsh and fish scripts all set) still have them."""
    given = [*(ctx.params.get("files") or ()), ctx.params.get("baseline")]
    files = [name for name in given if name and name != "-"]
    if files:
        return files
    import shlex

    with contextlib.suppress(ValueError):
        words = shlex.split(os.environ.get("COMP_WORDS", ""))
        return [
            word
            for before, word in zip(words[1:], words[2:], strict=False)
            if before not in OTHER_FILES and not word.startswith("-") and os.path.isfile(word)
        ]
    return []


# Options that eval and compare share, declared once.
LossOption = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="SPEC",
        help="Losses, repeatable: mse,mae or huber:delta=0.5 ('losscli list' names them).",
        show_default=False,
        autocompletion=_complete_losses,
    ),
]
CompatOption = Annotated[
    str | None,
    typer.Option(
        "--compat",
        metavar="LIBRARY",
        help="Read --loss as this library's names and keywords and give its numbers: torch, "
        "keras, sklearn, optax or torchmetrics.",
        show_default=False,
    ),
]
PluginOption = Annotated[
    list[str] | None,
    typer.Option(
        "--plugin",
        metavar="FILE_OR_MODULE",
        help="Load losses declared with @losscli.loss from a .py file or a module; repeatable.",
        show_default=False,
    ),
]
MlflowOption = Annotated[
    bool,
    typer.Option(
        "--mlflow",
        help="Also log the results to MLflow (MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME, "
        "MLFLOW_RUN_ID): losses as metrics, parameters and inputs as params, the JSON report as "
        "an artifact. Needs pip install 'losscli[mlflow]'.",
    ),
]
PredOption = Annotated[
    str | None,
    typer.Option(
        "--pred",
        "-p",
        metavar="COLS",
        help="Prediction column(s): name, list or glob.",
        autocompletion=_complete_columns,
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        "-t",
        metavar="COLS",
        help="Target column(s): name, list or glob.",
        autocompletion=_complete_columns,
    ),
]
WeightOption = Annotated[
    str | None,
    typer.Option(
        "--weight",
        "-w",
        metavar="COL",
        help="Sample-weight column.",
        autocompletion=_complete_columns,
    ),
]
ColOption = Annotated[
    list[str] | None,
    typer.Option(
        "--col",
        metavar="ROLE=COLS",
        help="Another input role, e.g. var=sigma2; repeatable.",
        show_default=False,
    ),
]
TargetsOption = Annotated[
    str | None,
    typer.Option("--targets", metavar="FILE", help="Read targets from this file, row by row."),
]
OnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--on",
        metavar="COLS",
        help="Match rows of the two inputs by these key columns (a name or comma list; "
        "repeatable) instead of by position.",
        show_default=False,
    ),
]
NanOption = Annotated[
    str,
    typer.Option(
        "--nan", metavar="POLICY", help="Missing values: error, drop (skip the row) or propagate."
    ),
]
ChunkRowsOption = Annotated[
    int | None,
    typer.Option(
        "--chunk-rows",
        metavar="N",
        help="Rows per chunk; results do not depend on it.",
        show_default=False,
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="CHAR",
        help="The CSV delimiter, when the header line cannot say (e.g. ';' or '\\t').",
        show_default=False,
    ),
]
NoHeaderOption = Annotated[
    bool,
    typer.Option(
        "--no-header",
        help="CSV files have no header line: columns are named 1, 2, ... (-p 2 -t 3).",
    ),
]
SkipRowsOption = Annotated[
    int,
    typer.Option("--skip-rows", metavar="N", help="Skip the first N lines of each CSV file."),
]
CommentOption = Annotated[
    str | None,
    typer.Option(
        "--comment",
        metavar="CHAR",
        help="Leave out CSV lines that start with CHAR (e.g. '#').",
        show_default=False,
    ),
]
DecimalOption = Annotated[
    str | None,
    typer.Option(
        "--decimal",
        metavar="CHAR",
        help="The decimal mark of CSV numbers: '.' or ','.",
        show_default=False,
    ),
]
ClassesOption = Annotated[
    str | None,
    typer.Option(
        "--classes",
        metavar="NAMES",
        help="Class labels stored as text, in the order of the score columns "
        "(cat,dog,bird), or auto: from the score columns' names (score_cat: cat).",
        show_default=False,
    ),
]
PosLabelOption = Annotated[
    str | None,
    typer.Option(
        "--pos-label",
        metavar="LABEL",
        help="The positive label of a binary target stored as text (e.g. yes); the other "
        "label is 0.",
        show_default=False,
    ),
]
ReportFormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="auto (table on a terminal, else JSON; with -o, from its extension), table, json, "
        "csv, markdown, github, metrics (flat JSON of numbers for DVC or MLflow) or junit "
        "(XML, a test case per check).",
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the report to FILE (atomically) instead of standard output; never over an "
        "input. Its extension names the format unless --format does: .json, .csv, .md, .xml "
        "(JUnit), .txt (table).",
        show_default=False,
    ),
]
InputFormatOption = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        metavar="FORMAT",
        help="csv, tsv, parquet, arrow or jsonl, when the name or bytes do not say.",
    ),
]
BootstrapOption = Annotated[
    int | None,
    typer.Option(
        "--bootstrap",
        metavar="N",
        help="Bootstrap replicates for intervals of losses that are not plain means [1000].",
        show_default=False,
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", metavar="S", help="Seed of the bootstrap.")]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        envvar="LOSSCLI_SCHEDULER",
        help="Run on a Dask cluster: local, local:N (N worker processes) or tcp://HOST:PORT; "
        "needs losscli[distributed].",
        show_default=False,
    ),
]


# Examples under each command's --help ('\b' keeps click from rewrapping them into one line).
EXAMPLES = {
    "eval": [
        "losscli eval -l mse,mae,huber:delta=10 preds.csv",
        "losscli eval -l bce -p prob -t label preds.parquet -f json -o report.json",
        "losscli eval -l rmse --by region --ci 0.95 preds.csv",
        "losscli eval -l mse,r2 preds.csv --max mse=1000 --min r2=0.9 -f junit -o checks.xml",
        "losscli eval -l mse,r2 preds.csv -f metrics -o metrics.json --mlflow",
        "losscli eval --plugin my_losses.py -l my_loss preds.csv",
    ],
    "check": [
        "losscli check",
        "losscli check house_prices --config ci/losscli.toml -f junit -o checks.xml",
    ],
    "compare": [
        "losscli compare -l mse,mae old.csv new.csv",
        "losscli compare -l mse new_baseline.csv candidate.csv --fail-if-worse -f junit",
    ],
    "plot": [
        "losscli plot --kind distribution -l mse preds.csv -o errors.png",
        "losscli plot --kind compare -l mse old.csv new.csv -o diff.png",
        "losscli plot --kind curve -l mse,huber:delta=1,log_cosh -o curves.svg",
    ],
    "list": ["losscli list", "losscli list -f json --plugin my_losses.py"],
    "describe": ["losscli describe huber", "losscli describe my_loss --plugin my_losses.py"],
}


def _examples(command: str) -> str:
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])


@app.command("eval", epilog=_examples("eval"))
def eval_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE",
            help="Paths, globs or directories read as one table; '-' or a pipe is stdin.",
            show_default=False,
        ),
    ] = None,
    loss: LossOption = None,
    plugin: PluginOption = None,
    pred: PredOption = None,
    target: TargetOption = None,
    weight: WeightOption = None,
    col: ColOption = None,
    targets: TargetsOption = None,
    on: OnOption = None,
    nan: NanOption = "error",
    per_row: Annotated[
        str | None,
        typer.Option(
            "--per-row",
            metavar="PATH",
            help="Also write each row's losses to this .csv or .parquet file.",
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id", metavar="COL", help="Column copied into the --per-row file."),
    ] = None,
    chunk_rows: ChunkRowsOption = None,
    output_format: ReportFormatOption = "auto",
    output: OutputOption = None,
    mlflow: MlflowOption = False,
    input_format: InputFormatOption = None,
    delimiter: DelimiterOption = None,
    no_header: NoHeaderOption = False,
    skip_rows: SkipRowsOption = 0,
    comment: CommentOption = None,
    decimal: DecimalOption = None,
    classes: ClassesOption = None,
    pos_label: PosLabelOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no notes on stderr.")
    ] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="COLS",
            help="Also a result per group of these columns' values (a name or comma list).",
        ),
    ] = None,
    ci: Annotated[
        str | None,
        typer.Option(
            "--ci",
            metavar="LEVEL",
            help="A confidence interval per result at this level (0.95 or 95%).",
        ),
    ] = None,
    bootstrap: BootstrapOption = None,
    seed: SeedOption = 0,
    worst: Annotated[
        int | None,
        typer.Option(
            "--worst",
            metavar="K",
            help="List the K rows with the largest loss (with --id COL to name them).",
            show_default=False,
        ),
    ] = None,
    max_: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            metavar="LABEL=VALUE",
            help="Fail (exit 1) when this loss is above VALUE, e.g. mse=1200; repeatable.",
            show_default=False,
        ),
    ] = None,
    min_: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            metavar="LABEL=VALUE",
            help="Fail (exit 1) when this loss is below VALUE, e.g. r2=0.9; repeatable.",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="Fail when a loss is worse than in this earlier 'eval --format json' report.",
        ),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--tolerance",
            metavar="[LABEL=]TOL",
            help="How much worse than --baseline may pass: 0.01, 2% (of the baseline), "
            "or mse=2% for one loss; repeatable; default 0.",
            show_default=False,
        ),
    ] = None,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing",
            help="Skip, rather than fail, a loss missing from the results or the --baseline.",
        ),
    ] = False,
    allow_other_rows: Annotated[
        bool,
        typer.Option(
            "--allow-other-rows",
            help="Compare with a --baseline computed on another number of rows (else refused).",
        ),
    ] = False,
    scheduler: SchedulerOption = None,
    compat: CompatOption = None,
) -> None:
    """Compute losses over a file of predictions and targets, and check them if asked."""
    from losscli.gates import CheckOptions

    _refuse_eval_usage(loss, output_format, id_column, (per_row, worst), files, (bootstrap, ci))
    tracker = _tracker(mlflow)
    _load_plugins(plugin)
    assert loss  # refused above when missing
    gate = CheckOptions.parse(
        loss,
        max_ or [],
        min_ or [],
        baseline,
        tolerance or [],
        allow_missing,
        allow_other_rows,
        compat=compat,
    )
    from losscli.api import evaluate
    from losscli.engine.tally import DEFAULT_REPLICATES
    from losscli.io.outputs import check_per_row

    # evaluate checks --per-row against the inputs; the baseline and the report are the CLI's.
    if not scheduler:  # on a cluster --per-row names a directory: evaluate checks it
        check_per_row(per_row, baseline=baseline, report=None if output else sys.stdout)
    destination = _destination(output, files or ["-"], targets, baseline, per_row)
    output_format = _chosen_format(output_format, output)
    if output_format == "junit" and not (gate.max or gate.min or gate.baseline is not None):
        raise UsageError(
            "--format junit writes a test case per check, and no check is asked for.",
            "Add --max LABEL=VALUE, --min LABEL=VALUE or --baseline FILE.",
        )
    runtime.start_run()

    with _progress(quiet, files or [], scheduler) as progress:
        report = evaluate(
            files or ["-"],
            loss,
            pred=pred,
            target=target,
            weight=weight,
            columns=_roles(col or []),
            targets=targets,
            nan=nan,
            chunk_rows=chunk_rows,
            per_row=per_row,
            id_column=id_column,
            input_format=input_format,
            on_progress=progress.rows,
            by=by,
            ci=_level(ci),
            bootstrap=DEFAULT_REPLICATES if bootstrap is None else bootstrap,
            seed=seed,
            worst=0 if worst is None else _at_least_one(worst),
            on=on or None,
            csv=_dialect(delimiter, no_header, skip_rows, comment, decimal),
            classes=classes,
            pos_label=pos_label,
            scheduler=scheduler or None,
            on_units=progress.units,
            compat=compat,
        )
    report = gate.apply(report)
    _emit(report, output_format, destination)
    _log_mlflow(tracker, report, quiet)
    if not quiet:
        _report_notes(report, output_format, worst)
        _report_failures(report.checks, output_format)
    if report.passed is False:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("check", epilog=_examples("check"))
def check_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME",
            help="Checks to run, as named in the configuration; all of them when none is given.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="The configuration file (default: losscli.toml, else pyproject.toml, here).",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="auto (table on a terminal, else JSON; with -o, from its extension), table, json, "
            "markdown, github, metrics or junit.",
        ),
    ] = "auto",
    output: OutputOption = None,
    mlflow: MlflowOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
    scheduler: SchedulerOption = None,
    compat: Annotated[
        str | None,
        typer.Option(
            "--compat",
            metavar="LIBRARY",
            help="Read the checks' losses as this library's names (a check's own compat = "
            "wins): torch, keras, sklearn, optax or torchmetrics.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the checks declared in losscli.toml or [tool.losscli] of pyproject.toml."""
    from losscli.api import check
    from losscli.report.checkrun import RUN_FORMATS

    formats = ("auto", *RUN_FORMATS)
    if output_format not in formats:
        raise UsageError(
            f"--format {output_format} is unknown for check.", f"Use one of {', '.join(formats)}."
        )
    if output is not None and output_format == "auto":
        _chosen_format(output_format, output)  # an unknown extension, before anything is read
    tracker = _tracker(mlflow)
    runtime.start_run()
    run = check(names or (), config=config, compat=compat)
    read = [name for r in run.reports.values() for name in r.inputs["files"]]
    read += [name for r in run.reports.values() for name in r.inputs.get("targets") or []]
    destination = _destination(output, read, [run.config])
    _emit(run, _chosen_format(output_format, output), destination)
    _log_mlflow(tracker, run, quiet)
    if not quiet:
        for name, report in run.reports.items():
            _report_failures(report.checks, output_format, f"{name}: ")
    if not run.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _report_failures(checks: list[Any], output_format: str, prefix: str = "") -> None:
    """Failed checks in words on stderr, where the output is for machines (JSON, CSV)."""
    if output_format not in ("json", "csv", "metrics", "junit"):
        return
    for check in checks:
        if check.failed:
            sys.stderr.write(f"check failed: {prefix}{check.describe()}\n")


def _level(text: str | None) -> float | None:
    """--ci 0.95, 95% or 95: a confidence level as a fraction."""
    if text is None:
        return None
    raw = text.strip()
    try:
        level = float(raw.rstrip("%"))
    except ValueError:
        raise UsageError(
            f"--ci {text} is not a confidence level.", "Example: --ci 0.95 (or --ci 95%)."
        ) from None
    if raw.endswith("%") or 50 <= level < 100:
        level /= 100
    if not 0 < level < 1:
        raise UsageError(
            f"--ci {text} is not a confidence level.", "Give a level between 0 and 1, e.g. 0.95."
        )
    return level


def _at_least_one(worst: int) -> int:
    if worst < 1:
        raise UsageError(f"--worst {worst} must be at least 1.", "Example: --worst 10")
    return worst


def _stdin_is_terminal() -> bool:
    # A closed stdin (None) has nothing piped in either.
    return sys.stdin is None or sys.stdin.isatty()


def _roles(entries: list[str]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for entry in entries:
        role, sep, columns = entry.partition("=")
        if not sep or not role.strip() or not columns.strip():
            raise UsageError(f"--col {entry} is not ROLE=COLS.", "Example: --col var=sigma2")
        if role.strip() in ("pred", "target", "weight"):
            raise UsageError(f"--col {entry}: use -p, -t or -w for the {role.strip()} role.")
        if role.strip() in roles:
            # The later one silently replaced the earlier; a group is one option: var=a,b.
            raise UsageError(
                f"--col {entry}: {role.strip()} is already given ({role.strip()}="
                f"{roles[role.strip()]}).",
                f"Give each role once; several columns go in one list: --col {role.strip()}=a,b",
            )
        roles[role.strip()] = columns.strip()
    return roles


def _refuse_eval_usage(
    loss: list[str] | None,
    output_format: str,
    id_column: str | None,
    outputs: tuple[Any, Any],
    files: list[str] | None,
    interval: tuple[Any, Any],
) -> None:
    """The eval options that cannot work together, refused before anything is read."""
    from losscli.report.render import FORMATS

    (per_row, worst), (bootstrap, ci) = outputs, interval
    formats = ("auto", *FORMATS)
    if not loss:
        raise UsageError(
            "No --loss given.",
            "Example: losscli eval --loss mse,huber preds.csv ('losscli list' shows every loss).",
        )
    if output_format not in formats:
        raise UsageError(
            f"--format {output_format} is unknown.", f"Use one of {', '.join(formats)}."
        )
    if id_column and not per_row and not worst:
        raise UsageError(
            "--id only names a column for the --per-row file or the --worst rows.",
            "Add --per-row PATH (.csv or .parquet) or --worst K, or leave out --id.",
        )
    if not files and _stdin_is_terminal():
        raise UsageError(
            "No FILE given and nothing is piped in.",
            "Name a file (losscli eval --loss mse preds.csv) or pipe data in.",
        )
    if bootstrap is not None and ci is None:
        raise UsageError(
            "--bootstrap sets how many replicates --ci draws, but no --ci is asked for.",
            "Add --ci 0.95 (or leave out --bootstrap).",
        )


def _report_notes(report: Any, output_format: str, worst: int | None = None) -> None:
    """Dropped rows, groups left out of the table, and (where the format has no room for them)
    why a value is missing."""
    from losscli.report.groups import TABLE_GROUPS

    dropped = report.inputs["rows_dropped"]
    if dropped:
        _note(
            f"{dropped} of {report.inputs['rows_read']} rows dropped for missing values "
            "(--nan drop)."
        )
    for result in report.overall:
        if worst and result.worst is None:
            _note(f"{result.label} has no per-row values, so no --worst rows.")
    groups = report.groups.group_count if report.groups is not None else 0
    if output_format == "table" and groups > TABLE_GROUPS:
        _note(
            f"the table shows the first {TABLE_GROUPS} of {groups} groups; "
            f"{groups - TABLE_GROUPS} are left out (--format csv or json writes them all)."
        )
    if output_format == "json":
        return
    for result in report.overall:
        if result.note:
            _note(f"{result.label}: {result.note}.")


class _progress:
    """A transient rich progress line on a terminal's stderr, for inputs large enough to wait on:
    rows read, and where the input's size is known, a bar, its percentage and the time left."""

    LARGE_BYTES = 64 << 20
    STEPS = 1000  # the bar's resolution

    def __init__(self, quiet: bool, files: list[str], scheduler: str | None = None) -> None:
        self.bar: Any = None
        self.task: Any = None
        if quiet or os.environ.get("CI") or not sys.stderr.isatty():
            return
        sizes = [os.path.getsize(f) for f in files if f != "-" and os.path.isfile(f)]
        small = files and len(sizes) == len(files) and sum(sizes) < self.LARGE_BYTES
        if small and not scheduler:  # a cluster's start-up alone is worth a progress line
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from losscli.io.progress import Meter

        self.meter = Meter([] if scheduler else files)  # a cluster reports units, not rows
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            *(self._known_columns() if self.meter.known else ()),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    @staticmethod
    def _known_columns() -> tuple[Any, ...]:
        from rich.progress import BarColumn, TaskProgressColumn, TimeRemainingColumn

        return BarColumn(), TaskProgressColumn(), TimeRemainingColumn()

    def __enter__(self) -> "_progress":
        if self.bar is not None:
            self.bar.start()
            total = self.STEPS if self.meter.known else None
            self.task = self.bar.add_task("reading", total=total)
        return self

    @property
    def rows(self) -> Any:
        """What hears of the rows read (None without a progress line): their count, and the
        fraction of the input they are where its size is known."""
        if self.bar is None:
            return None

        def update(rows: int) -> None:
            fraction = self.meter.fraction(rows)
            done = None if fraction is None else fraction * self.STEPS
            self.bar.update(self.task, description=f"{rows:,} rows read", completed=done)

        return update

    @property
    def units(self) -> Any:
        """What hears of a cluster's units of work finished (None without a progress line)."""
        if self.bar is None:
            return None
        return lambda done, units: self.bar.update(
            self.task, description=f"{done:,} of {units:,} units done"
        )

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _render(outcome: Any, output_format: str, to_file: bool = False, **options: Any) -> str:
    """A report, comparison or check run as text in ``output_format`` (not auto)."""
    console = None
    if output_format == "table":
        console = _console() if not to_file else _file_console()
    with _writing_stdout():  # as in _rendered: a table's capture may write to stdout
        return str(outcome.render(output_format, console, **options))


def _file_console() -> Any:
    from rich.console import Console

    return Console(width=UNBOUNDED_WIDTH, color_system=None)


def _destination(output: str | None, *inputs: Any) -> Any:
    """The path -o names, refused when it is an input (or in one's directory); else None: the
    report goes to standard output, which must not be an input either."""
    from losscli.io.outputs import check_report_output, check_report_stream

    if output is None:
        check_report_stream(sys.stdout, *inputs[:2])
        return None
    files, targets, baseline, per_row = (*inputs, None, None, None)[:4]
    return check_report_output(output, files, targets, baseline, per_row)


def _chosen_format(output_format: str, output: str | None) -> str:
    """auto: the format -o's extension names, else a table on a terminal and JSON elsewhere."""
    if output_format != "auto":
        return output_format
    if output is not None:
        from losscli.io.outputs import output_format as format_of

        return format_of(output)
    return "table" if sys.stdout.isatty() else "json"


def _emit(outcome: Any, output_format: str, destination: Any, **options: Any) -> None:
    """The outcome as text, on standard output or (atomically) in the -o file. A report's JSON
    and CSV are written in pieces as they are made (a million groups are never held whole)."""
    pieces: Iterable[bytes]
    if output_format in ("json", "csv") and hasattr(outcome, "pieces"):
        pieces = outcome.pieces(output_format)
    else:
        pieces = [_render(outcome, output_format, destination is not None, **options).encode()]
    if destination is None:
        _write_pieces(pieces)
        return
    from losscli.io.outputs import write_text

    write_text(destination, pieces)


@app.command("compare", epilog=_examples("compare"))
def compare_command(
    baseline: Annotated[
        str, typer.Argument(metavar="BASELINE", help="The reference model's predictions.")
    ],
    candidate: Annotated[
        str, typer.Argument(metavar="CANDIDATE", help="The new model's, for the same rows.")
    ],
    loss: LossOption = None,
    plugin: PluginOption = None,
    pred: PredOption = None,
    target: TargetOption = None,
    weight: WeightOption = None,
    col: ColOption = None,
    targets: TargetsOption = None,
    on: OnOption = None,
    nan: NanOption = "error",
    ci: Annotated[
        str, typer.Option("--ci", metavar="LEVEL", help="Level of the paired intervals.")
    ] = "0.95",
    bootstrap: BootstrapOption = None,
    seed: SeedOption = 0,
    fail_if_worse: Annotated[
        bool,
        typer.Option(
            "--fail-if-worse",
            help="Exit 1 when the candidate is worse on a loss beyond the interval.",
        ),
    ] = False,
    chunk_rows: ChunkRowsOption = None,
    output_format: ReportFormatOption = "auto",
    output: OutputOption = None,
    mlflow: MlflowOption = False,
    input_format: InputFormatOption = None,
    delimiter: DelimiterOption = None,
    no_header: NoHeaderOption = False,
    skip_rows: SkipRowsOption = 0,
    comment: CommentOption = None,
    decimal: DecimalOption = None,
    classes: ClassesOption = None,
    pos_label: PosLabelOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
    scheduler: SchedulerOption = None,
    compat: CompatOption = None,
) -> None:
    """Compare two models on the same rows: the difference per loss, its paired interval and
    p-value."""
    from losscli.report.comparison import FORMATS, UNDEFINED

    formats = ("auto", *FORMATS)
    if not loss:
        raise UsageError(
            "No --loss given.", "Example: losscli compare --loss mse,mae old.csv new.csv"
        )
    if output_format not in formats:
        raise UsageError(
            f"--format {output_format} is unknown.", f"Use one of {', '.join(formats)}."
        )
    tracker = _tracker(mlflow)
    _load_plugins(plugin)
    from losscli.api import compare
    from losscli.engine.tally import DEFAULT_REPLICATES

    destination = _destination(output, [baseline, candidate], targets)
    output_format = _chosen_format(output_format, output)
    runtime.start_run()

    level = _level(ci)
    assert level is not None
    with _progress(quiet, [baseline, candidate], scheduler) as progress:
        result = compare(
            baseline,
            candidate,
            loss,
            pred=pred,
            target=target,
            weight=weight,
            columns=_roles(col or []),
            targets=targets,
            nan=nan,
            chunk_rows=chunk_rows,
            input_format=input_format,
            ci=level,
            bootstrap=DEFAULT_REPLICATES if bootstrap is None else bootstrap,
            seed=seed,
            on_progress=progress.rows,
            on=on or None,
            csv=_dialect(delimiter, no_header, skip_rows, comment, decimal),
            scheduler=scheduler or None,
            on_units=progress.units,
            classes=classes,
            pos_label=pos_label,
            compat=compat,
        )
    _emit(result, output_format, destination, fail_if_worse=fail_if_worse)
    _log_mlflow(tracker, result, quiet)
    dropped = result.inputs["rows_dropped"]
    if dropped and not quiet:
        _note(f"{dropped} of {result.inputs['rows_read']} rows dropped for missing values.")
    if fail_if_worse and not result.passed:
        undefined = [label for label, said in result.verdicts().items() if said == UNDEFINED]
        if not quiet and result.worse:
            _note(f"the candidate is worse on {', '.join(result.worse)}.")
        if not quiet and undefined:
            _note(f"the difference is undefined (NaN) on {', '.join(undefined)}: not a pass.")
        raise typer.Exit(EXIT_CHECK_FAILED)


PLOT_KINDS = "distribution, calibration, groups, residuals, compare or curve"


@app.command("plot", epilog=_examples("plot"))
def plot_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE",
            help="Input as for eval; for --kind compare, BASELINE CANDIDATE; none for a curve.",
            show_default=False,
        ),
    ] = None,
    loss: LossOption = None,
    plugin: PluginOption = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", metavar="KIND", help=f"The picture: {PLOT_KINDS}.")
    ] = "distribution",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the picture here: .png, .svg, .pdf, .html, or .json for its numbers "
            "(default: text on a terminal, else JSON).",
        ),
    ] = None,
    bins: Annotated[
        int | None,
        typer.Option(
            "--bins", metavar="N", help="Bins of a reliability diagram [10].", show_default=False
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            metavar="S",
            help="Reliability bins: uniform (equal widths) [default] or quantile (equal rows).",
            show_default=False,
        ),
    ] = None,
    pred: PredOption = None,
    target: TargetOption = None,
    weight: WeightOption = None,
    col: ColOption = None,
    targets: TargetsOption = None,
    on: OnOption = None,
    nan: NanOption = "error",
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="COLS", help="Group columns of a groups picture."),
    ] = None,
    ci: Annotated[
        str | None,
        typer.Option("--ci", metavar="LEVEL", help="An interval per group at this level."),
    ] = None,
    bootstrap: BootstrapOption = None,
    seed: SeedOption = 0,
    chunk_rows: ChunkRowsOption = None,
    input_format: InputFormatOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
) -> None:
    """Draw the losses: their distribution per row, a reliability diagram, groups, residuals, a
    comparison of two models, or the curve of each loss."""
    from losscli.report.pictures import PICTURE_SUFFIXES, pyplot

    inputs = _plot_inputs(files, kind)
    _refuse_plot_usage(loss, kind, (bins, strategy), (bootstrap, seed))
    _load_plugins(plugin)
    assert loss  # refused above when missing
    to_text = output is None and sys.stdout.isatty()
    if output is not None:
        from losscli.io.outputs import check_output

        check_output(
            output, PICTURE_SUFFIXES, option("output"), [*inputs, *([targets] if targets else [])]
        )
        if output.lower().endswith((".png", ".svg", ".pdf", ".html")):
            pyplot()  # a missing extra is said before anything is read
    from losscli.engine.tally import DEFAULT_REPLICATES
    from losscli.pictures import plot

    runtime.collect_again()
    reading: dict[str, Any] = {
        "pred": pred,
        "target": target,
        "weight": weight,
        "columns": _roles(col or []),
        "targets": targets,
        "nan": nan,
        "chunk_rows": chunk_rows,
        "input_format": input_format,
        "on": on or None,
    }
    calibration: dict[str, Any] = {
        "bins": 10 if bins is None else bins,
        "strategy": strategy or "uniform",
    }
    if kind == "groups":
        reading.update(bootstrap=DEFAULT_REPLICATES if bootstrap is None else bootstrap, seed=seed)
    if kind == "curve":
        picture = plot(None, loss, kind, by=by, ci=_level(ci))
    else:
        with _progress(quiet, inputs) as progress:
            data, candidate = (inputs[0], inputs[1]) if kind == "compare" else (inputs, None)
            picture = plot(
                data,
                loss,
                kind,
                candidate=candidate,
                on_progress=progress.rows,
                by=by,
                ci=_level(ci),
                **calibration,
                **reading,
            )
    _show_picture(picture, output, to_text)


def _refuse_plot_usage(
    loss: list[str] | None, kind: str, calibration: tuple[Any, Any], resampling: tuple[Any, int]
) -> None:
    """plot's options that cannot work together, refused before anything is read."""
    (bins, strategy), (bootstrap, seed) = calibration, resampling
    if not loss:
        raise UsageError(
            "No --loss given.", "Example: losscli plot --loss mse preds.csv -o losses.png"
        )
    if (bins is not None or strategy is not None) and kind != "calibration":
        raise UsageError(
            "--bins and --strategy shape a reliability diagram only.",
            "Add --kind calibration, or leave them out.",
        )
    if (bootstrap is not None or seed) and kind != "groups":
        raise UsageError(
            "--bootstrap and --seed draw the intervals of a groups picture only.",
            "Add --kind groups --by COLS --ci 0.95, or leave them out.",
        )


def _show_picture(picture: Any, output: str | None, to_text: bool) -> None:
    """The picture into its file, as text on the terminal, or as its JSON into a pipe."""
    from losscli.report.pictures import text_picture

    if output is not None:
        picture.save(output)
    elif to_text:
        # A terminal that reports no size (0 x 0) gets 100 x 30.
        size = shutil.get_terminal_size((100, 30))
        width = size.columns if size.columns >= 40 else 100
        height = min(size.lines - 2, 30) if size.lines >= 14 else 30
        _write(text_picture(picture.to_dict(), width, height))
    else:
        import json

        _write(json.dumps(picture.to_dict(), indent=2, allow_nan=False) + "\n")


@app.command("report")
def report_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE",
            help="Paths, globs or directories read as one table; '-' or a pipe is stdin.",
            show_default=False,
        ),
    ] = None,
    loss: LossOption = None,
    output: Annotated[
        str,
        typer.Option("--output", "-o", metavar="FILE.html", help="The page to write."),
    ] = "",
    pred: PredOption = None,
    target: TargetOption = None,
    weight: WeightOption = None,
    col: ColOption = None,
    targets: TargetsOption = None,
    on: OnOption = None,
    nan: NanOption = "error",
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="COLS", help="Also a table and a picture per group."),
    ] = None,
    ci: Annotated[
        str | None,
        typer.Option("--ci", metavar="LEVEL", help="An interval per result at this level."),
    ] = None,
    bootstrap: BootstrapOption = None,
    seed: SeedOption = 0,
    worst: Annotated[
        int, typer.Option("--worst", metavar="K", help="Rows with the largest loss to list.")
    ] = 10,
    id_column: Annotated[
        str | None, typer.Option("--id", metavar="COL", help="Column naming the worst rows.")
    ] = None,
    max_: Annotated[
        list[str] | None,
        typer.Option(
            "--max", metavar="LABEL=VALUE", help="A check: fail above VALUE.", show_default=False
        ),
    ] = None,
    min_: Annotated[
        list[str] | None,
        typer.Option(
            "--min", metavar="LABEL=VALUE", help="A check: fail below VALUE.", show_default=False
        ),
    ] = None,
    chunk_rows: ChunkRowsOption = None,
    input_format: InputFormatOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
) -> None:
    """Write one self-contained HTML page: results, intervals, checks, groups, worst rows and
    the pictures that fit the losses."""
    from losscli.gates import CheckOptions

    inputs = _plot_inputs(files, "report")
    if not loss:
        raise UsageError(
            "No --loss given.", "Example: losscli report --loss mse,mae preds.csv -o report.html"
        )
    if not output:
        raise UsageError("No -o/--output given.", "Name the page: -o report.html")
    gate = CheckOptions.parse(loss, max_ or [], min_ or [], None, [], False, False)
    from losscli.io.outputs import check_output
    from losscli.report.pictures import pyplot

    target_path = check_output(
        output, (".html", ".htm"), option("output"), [*inputs, *([targets] if targets else [])]
    )
    pyplot()  # a missing extra is said before anything is read
    from losscli.engine.tally import DEFAULT_REPLICATES
    from losscli.io.outputs import replace_atomically
    from losscli.pictures import report
    from losscli.report.page import report_page

    runtime.collect_again()
    with _progress(quiet, inputs) as progress:
        evaluated, pictures = report(
            inputs,
            loss,
            pred=pred,
            target=target,
            weight=weight,
            columns=_roles(col or []),
            targets=targets,
            nan=nan,
            chunk_rows=chunk_rows,
            input_format=input_format,
            on_progress=progress.rows,
            by=by,
            ci=_level(ci),
            bootstrap=DEFAULT_REPLICATES if bootstrap is None else bootstrap,
            seed=seed,
            worst=_at_least_one(worst),
            id_column=id_column,
            on=on or None,
        )
    evaluated = gate.apply(evaluated)
    page = report_page(evaluated, pictures)
    replace_atomically(target_path, [page.encode()], option("output"))
    if not quiet:
        _report_failures(evaluated.checks, "json")
    if evaluated.passed is False:
        raise typer.Exit(EXIT_CHECK_FAILED)


def _plot_inputs(files: list[str] | None, kind: str) -> list[str]:
    """The inputs of a plot: none for a curve, two for a comparison, else as for eval."""
    if kind == "curve":
        if files:
            raise UsageError(
                "A curve is drawn from the losses alone, with no input file.",
                "Example: losscli plot --kind curve --loss mse,huber:delta=1,log_cosh",
            )
        return []
    if kind == "compare" and len(files or []) != 2:
        raise UsageError(
            "--kind compare needs two files: BASELINE CANDIDATE.",
            "Example: losscli plot --kind compare --loss mse old.csv new.csv -o diff.png",
        )
    if not files and _stdin_is_terminal():
        raise UsageError(
            "No FILE given and nothing is piped in.",
            "Name a file (losscli plot --loss mse preds.csv) or pipe data in.",
        )
    return files or ["-"]


@app.command("list", epilog=_examples("list"))
def list_command(
    output_format: Annotated[
        str,
        typer.Option("--format", "-f", metavar="FORMAT", help="table, json or markdown."),
    ] = "table",
    plugin: PluginOption = None,
    compat: Annotated[
        str | None,
        typer.Option(
            "--compat",
            metavar="LIBRARY",
            help="List this library's loss names instead, with the losscli loss each maps to.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List every loss: name, aliases, family, parameters, direction."""
    _load_plugins(plugin)
    from losscli.report.catalogue import catalogue_json, catalogue_markdown, catalogue_table

    if compat is not None:
        from losscli.report.catalogue import compat_json, compat_table

        if output_format not in ("table", "json"):
            raise UsageError(
                f"--format {output_format} is unknown for list --compat.", "Use table or json."
            )
        if output_format == "json":
            _write(compat_json(compat))
        else:
            console = _console()
            _write(_rendered(compat_table(compat), console))
        return

    if output_format in ("json", "markdown"):
        _write(catalogue_json() if output_format == "json" else catalogue_markdown())
        return
    if output_format != "table":
        raise UsageError(
            f"--format {output_format} is unknown for list.", "Use table, json or markdown."
        )
    console = _console()
    _write(_rendered(catalogue_table(compact=console.width < WIDE_TABLE), console))


@app.command("describe", epilog=_examples("describe"))
def describe_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A loss name or alias, e.g. huber.")],
    plugin: PluginOption = None,
    compat: Annotated[
        str | None,
        typer.Option(
            "--compat",
            metavar="LIBRARY",
            help="NAME is this library's: show its exact rule and how it differs from losscli's.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show one loss: formula, parameters, input roles, conventions and an example."""
    _load_plugins(plugin)
    from losscli.losses import get_loss
    from losscli.report.catalogue import compat_description, description

    if compat is not None:
        _write(compat_description(compat, name))
        return
    from losscli.compat import refuse_library_name

    refuse_library_name(name)
    _write(description(get_loss(name)))


def _dialect(
    delimiter: str | None, no_header: bool, skip_rows: int, comment: str | None, decimal: Any
) -> Any:
    """The CSV options as the library's dialect; None when none is given."""
    if delimiter is None and not no_header and not skip_rows and comment is None and not decimal:
        return None
    from losscli.io.dialect import CsvDialect

    delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
    return CsvDialect(delimiter, not no_header, skip_rows, comment, decimal)


def _tracker(wanted: bool) -> Any:
    """With --mlflow, the MLflow store, reached before anything is read; else None."""
    if not wanted:
        return None
    from losscli.tracking import Tracker, available

    if not available():
        raise UsageError(
            "--mlflow needs MLflow's client, which is not installed.",
            "Install it: pip install 'losscli[mlflow]'",
        )
    return Tracker()


def _log_mlflow(tracker: Any, outcome: Any, quiet: bool) -> None:
    """The outcome's metrics, params and JSON document logged to MLflow, when asked."""
    if tracker is None:
        return
    from losscli.report.formatting import json_ready
    from losscli.tracking import requested

    document = json_ready(outcome.to_dict())
    logged = tracker.log(outcome.metrics(), requested(document), document)
    if not quiet:
        into = "a new run" if logged.created else "the run"
        _note(
            f"logged to MLflow: {into} {logged.run_id} of experiment {logged.experiment_id} at "
            f"{logged.tracking_uri}."
        )


def _load_plugins(plugins: list[str] | None) -> None:
    if plugins:
        from losscli.plugins import load_plugins

        load_plugins(plugins)


def _write(text: str) -> None:
    _write_pieces([text.encode()])


def _write_pieces(pieces: Iterable[bytes]) -> None:
    """UTF-8 text on standard output, straight to its bytes where it has them."""
    with _writing_stdout():
        sys.stdout.flush()  # what was written as text goes first
        out = getattr(sys.stdout, "buffer", None)
        for piece in pieces:
            if out is not None:
                out.write(piece)
            else:  # a stream of text only (a test's capture)
                sys.stdout.write(piece.decode())
        (out or sys.stdout).flush()


@contextlib.contextmanager
def _writing_stdout() -> Any:
    """A full disk or a failing device under stdout as a one-line error, not an internal one."""
    try:
        yield
    except BrokenPipeError:
        raise  # a reader that went away (| head) is no error: main ends quietly
    except OSError as error:
        from losscli.io.outputs import write_error

        raise write_error("to standard output", error) from None


def _note(text: str) -> None:
    sys.stderr.write(f"note: {text}\n")


def _console() -> Any:
    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=UNBOUNDED_WIDTH)


def _rendered(renderable: Any, console: Any) -> str:
    """A rich table as text, written by ``_write`` like every other output."""
    from losscli.report.formatting import table_text

    # Rich writes to stdout as the capture ends (nothing, which /dev/full refuses all the same).
    with _writing_stdout():
        return table_text(renderable, console)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``losscli`` command; returns the exit code."""
    _RECEIVED.clear()  # a process may run several commands (tests, notebooks)
    with _stopped_by_signals():
        try:
            code = _main(argv)
        except _Stopped as stop:
            _fail(f"{STOPPING[stop.signum]}.")
            return 128 + stop.signum
        if _RECEIVED:
            # The stop was raised inside a finalizer (a Dask future's __del__, say), where
            # Python prints and drops an exception: the run went on, but it was still stopped.
            _fail(f"{STOPPING[_RECEIVED[0]]}.")
            return 128 + _RECEIVED[0]
        return code


# Parameters whose flag is not their Python name with dashes.
FLAGS = {
    "pred": "-p",
    "target": "-t",
    "weight": "-w",
    "losses": "--loss",
    "columns": "--col",
    "id_column": "--id",
    "output_format": "--format",
    "output": "-o/--output",
    "header": "--no-header",
    # The options that choose a role's columns, as messages about columns name them.
    "pred=": "-p/--pred",
    "target=": "-t/--target",
    "weight=": "-w/--weight",
}
ROLE_OF_COLUMNS = re.compile(r'columns\["(.*)"\]')  # columns["var"]: --col var


def flag_of(parameter: str) -> str:
    """The command line's spelling of a Python parameter named in an error message.

    ``columns["var"]`` is ``--col var``; ``weight=w``, a parameter with an example value, is its
    long flag and the value (``--weight w``).
    """
    role = ROLE_OF_COLUMNS.fullmatch(parameter)
    if role is not None:
        return f"{FLAGS['columns']} {role.group(1)}"
    name, _, value = parameter.partition("=")
    if value:
        flag = FLAGS.get(name, "")
        long = flag if flag.startswith("--") else "--" + name.replace("_", "-")
        return f"{long} {value}"
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


def _in_flags(error: LossCliError) -> str:
    """The error in the command line's words: parameters spelled as flags, and each line still
    within the length limit (-t/--target is longer than the mark it replaces)."""
    return "\n  ".join(capped(line) for line in error.spelled(flag_of).split("\n  "))


def _main(argv: list[str] | None) -> int:
    debug, args = _take_debug(list(sys.argv[1:] if argv is None else argv))
    streams = (sys.stdout, sys.stderr)
    try:
        code = _command(args).main(args=args, prog_name="losscli", standalone_mode=False)
        with _writing_stdout():
            sys.stdout.flush()
        return code if isinstance(code, int) else 0
    except LossCliError as error:
        _fail(_in_flags(error))
        return error.exit_code
    except BrokenPipeError:
        return _closed_pipe(streams)
    except SystemExit:
        # Click answers a closed stdout (EPIPE) by wrapping both streams and exiting with 1.
        if sys.stdout is not streams[0]:
            return _closed_pipe(streams)
        raise
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted.")
        return EXIT_INTERRUPTED
    except Exception as error:
        if _is_usage_error(error):
            return _usage_error(error)
        if _is_full_disk(error):
            return _full_disk(error)
        if debug:
            raise
        _fail(
            f"internal error: {type(error).__name__}: {_one_line(str(error))}\n"
            "  This is a bug in losscli; rerun with --debug (or LOSSCLI_DEBUG=1) for the traceback "
            "and report it."
        )
        return EXIT_INTERNAL


def _one_line(text: str) -> str:
    """An unexpected error's text on one line, shortened, its control characters escaped: it
    may quote the input's bytes."""
    from losscli.errors import escape_controls, excerpt

    return excerpt(escape_controls(text), 300)


class _Stopped(BaseException):
    """Ctrl-C, SIGTERM or SIGHUP, raised where the program is.

    Not an ``Exception``, so nothing that handles errors can mistake it for one; not a
    ``KeyboardInterrupt``, which Typer turns into a silent exit code.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# What each signal that stops a run says on stderr; the exit code is 128 + its number.
STOPPING: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
if hasattr(signal, "SIGHUP"):  # not on Windows
    STOPPING[signal.SIGHUP] = "hung up (SIGHUP)"


@contextlib.contextmanager
def _stopped_by_signals() -> Any:
    """Ctrl-C, SIGTERM and SIGHUP stop the command by raising where it is, so every ``with`` and
    ``finally`` on the way out runs: temporary and spooled files are removed. Then the old
    handlers come back."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return
    previous = {number: signal.getsignal(number) for number in STOPPING}
    # A signal the parent ignores (nohup ignores SIGHUP) stays ignored.
    ours = [n for n, was in previous.items() if was in (signal.SIG_DFL, signal.default_int_handler)]
    for number in ours:
        signal.signal(number, _stop)
    forwarder = _Forwarder(ours) if hasattr(signal, "pthread_kill") else None
    try:
        yield
    finally:
        if forwarder is not None:
            forwarder.close()
        for number in ours:
            signal.signal(number, previous[number])


_RECEIVED: list[int] = []  # the signals that stopped this process, first first


def _stop(signum: int, frame: object) -> None:
    _RECEIVED.append(signum)
    for number in STOPPING:
        # A second signal (or the forwarded copy of this one) must not cut the clean-up short.
        if signal.getsignal(number) is _stop:
            signal.signal(number, signal.SIG_IGN)
    raise _Stopped(signum)


class _Forwarder:
    """Hands a signal that landed on another thread to the main thread.

    The kernel gives a process's signal to any of its threads (Arrow's and NumPy's too), and
    Python runs the handler in the main thread once that thread runs Python code again: a main
    thread waiting on a slow stdin would wait for the next bytes first. Python's C handler writes
    each signal's number to the wakeup pipe; this thread sends the signal on to the main thread,
    whose wait is then interrupted and runs the handler.
    """

    def __init__(self, numbers: Iterable[int]) -> None:
        self.numbers = set(numbers)
        self.reader, self.writer = os.pipe()
        os.set_blocking(self.writer, False)
        self.previous = signal.set_wakeup_fd(self.writer, warn_on_full_buffer=False)
        self.main = threading.main_thread().ident
        self.thread = threading.Thread(target=self._forward, name="losscli-signals", daemon=True)
        self.thread.start()

    def _forward(self) -> None:
        while data := os.read(self.reader, 64):
            for number in data:
                if number in self.numbers and self.main is not None:
                    signal.pthread_kill(self.main, number)

    def close(self) -> None:
        signal.set_wakeup_fd(self.previous)
        os.close(self.writer)  # the thread reads the end of the pipe and returns
        self.thread.join()
        os.close(self.reader)


def run() -> None:
    """The ``losscli`` command: ``main``, then leave without tearing the interpreter down."""
    runtime.quiet_blas()
    runtime.leave(main())


def _command(args: Sequence[str] = ()) -> Any:
    """The click command of ``app`` (only the command ``args`` name, when they name one), with
    every option converted by plain Python.

    Typer 0.29 and later convert each option's text through a pydantic TypeAdapter, and importing
    pydantic costs every run about a fifth of a second. Every option here is text, a list of
    texts, a flag or an integer, which need no more than ``int()``. Older typers convert with
    click itself and have no ``type_descriptor``: their options are left as they are.
    """
    command = typer.main.get_command(_app_for(args))
    for each in [command, *getattr(command, "commands", {}).values()]:
        # The help option is made on first use; made now (and kept), it is converted alike.
        help_option = each.get_help_option(typer.Context(each, help_option_names=HELP_NAMES))
        for param in [*each.params, help_option]:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and descriptor.annotation in PLAIN_TYPES:
                param._runtime_param = _PlainValue(descriptor.annotation)
    return command


PLAIN_TYPES = (str, int, bool, list[str])


def _app_for(args: Sequence[str]) -> typer.Typer:
    """``app`` with only the command that ``args`` name first, when they name one: building
    every command's options took 15 ms of each run, the one run 4 ms."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    chosen = [info for info in app.registered_commands if info.name == name]
    if len(chosen) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = chosen
    return only


class _PlainValue:
    """Typer's conversion contract (``coerce``) for text, lists of text, flags and integers."""

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if self.annotation == list[str]:
            return list(value)
        if self.annotation is int and not isinstance(value, int):
            try:
                return int(value)
            except ValueError:
                raise typer.BadParameter(
                    f"{value!r} is not a valid integer.", ctx=ctx, param=param
                ) from None
        return value


def _take_debug(args: list[str]) -> tuple[bool, list[str]]:
    """``--debug`` may stand anywhere before a ``--``; it is ours, not click's."""
    end = args.index("--") if "--" in args else len(args)
    wanted = "--debug" in args[:end] or os.environ.get("LOSSCLI_DEBUG", "") not in ("", "0")
    return wanted, [arg for arg in args[:end] if arg != "--debug"] + args[end:]


def _is_usage_error(error: Exception) -> bool:
    # Click's exceptions, whether typer vendors click or uses the installed one.
    return hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)


def _usage_error(error: Any) -> int:
    """Typer/click usage errors as one line plus a pointer to --help."""
    if error.exit_code == 0:
        return 0
    if type(error).__name__ == "NoArgsIsHelpError":
        # 'losscli' alone: the help is what the user needs, not an error line around it.
        sys.stderr.write(error.format_message() + "\n")
        return EXIT_USAGE
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "losscli"
    _fail(f"{error.format_message()}\n  See '{command} --help'.")
    return EXIT_USAGE


def _is_full_disk(error: Exception) -> bool:
    from losscli.io.outputs import NO_SPACE

    return isinstance(error, OSError) and error.errno in NO_SPACE


def _full_disk(error: Any) -> int:
    """An output (Click's help, say) that met a full disk: the user's to fix, not a bug."""
    from losscli.io.outputs import write_error

    _fail(str(write_error(error.filename or "the output", error)))
    return EXIT_USAGE


def _fail(message: str) -> None:
    # A stderr that cannot be written (a terminal gone with SIGHUP): the exit code says it.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"losscli: error: {message}\n")
        sys.stderr.flush()


def _closed_pipe(streams: tuple[Any, Any]) -> int:
    # The reader of our stdout went away (| head): stop quietly. Put back the streams click may
    # have wrapped, and point stdout at /dev/null so Python's flush at exit cannot complain again.
    sys.stdout, sys.stderr = streams
    with contextlib.suppress(OSError, ValueError):
        descriptor = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, descriptor)
        os.close(devnull)
    return 0
