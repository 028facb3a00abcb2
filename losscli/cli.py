"""The command line: parses options into an ``evaluate`` call and renders its report.

Every failure a user can fix is one or two lines on stderr and exit code 2; a bug is exit code 3
with a pointer to ``--debug``. Heavy modules are imported inside the commands so ``--help``
stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from losscli import __version__
from losscli.errors import EXIT_INTERNAL, EXIT_USAGE, LossCliError, UsageError

app = typer.Typer(
    name="losscli",
    help="Evaluate loss functions on model predictions: exactly, fast, in bounded memory.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Evaluate loss functions on model predictions: exactly, fast, in bounded memory."""


@app.command("eval")
def eval_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Paths, globs or directories read as one table; '-' or a pipe is stdin.",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        list[str] | None,
        typer.Option(
            "--loss",
            "-l",
            help="Loss SPEC, repeatable: mse,mae or huber:delta=0.5.",
            show_default=False,
        ),
    ] = None,
    pred: Annotated[
        str | None, typer.Option("--pred", "-p", help="Prediction column(s): name, list or glob.")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="Target column(s): name, list or glob.")
    ] = None,
    weight: Annotated[
        str | None, typer.Option("--weight", "-w", help="Sample-weight column.")
    ] = None,
    col: Annotated[
        list[str] | None,
        typer.Option(
            "--col",
            help="Another input role: ROLE=COLS (e.g. var=sigma2), repeatable.",
            show_default=False,
        ),
    ] = None,
    targets: Annotated[
        str | None, typer.Option("--targets", help="Read targets from this file, row by row.")
    ] = None,
    nan: Annotated[
        str, typer.Option("--nan", help="Missing values: error, drop (skip the row) or propagate.")
    ] = "error",
    per_row: Annotated[
        str | None,
        typer.Option("--per-row", help="Also write each row's losses to this .csv or .parquet."),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="Column copied into the --per-row file.")
    ] = None,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            "--chunk-rows", help="Rows per chunk; results do not depend on it.", show_default=False
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto (table on a terminal, else JSON), table, json, csv or markdown.",
        ),
    ] = "auto",
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help="csv, tsv, parquet, arrow or jsonl, when the name or bytes do not say.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no notes on stderr.")
    ] = False,
) -> None:
    """Compute losses over a file of predictions and targets."""
    from losscli.report.render import FORMATS

    if not loss:
        raise UsageError(
            "No --loss given.",
            "Example: losscli eval --loss mse,huber preds.csv ('losscli list' shows every loss).",
        )
    if output_format not in FORMATS:
        raise UsageError(
            f"--format {output_format} is unknown.", f"Use one of {', '.join(FORMATS)}."
        )
    if not files and sys.stdin.isatty():
        raise UsageError(
            "No FILE given and nothing is piped in.",
            "Name a file (losscli eval --loss mse preds.csv) or pipe data in.",
        )
    from losscli.api import DEFAULT_CHUNK_ROWS, evaluate

    with _progress(quiet, files or []) as on_progress:
        report = evaluate(
            files or ["-"],
            loss,
            pred=pred,
            target=target,
            weight=weight,
            columns=_roles(col or []),
            targets=targets,
            nan=nan,
            chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS,
            per_row=per_row,
            id_column=id_column,
            input_format=input_format,
            on_progress=on_progress,
        )
    dropped = report.inputs["rows_dropped"]
    if dropped and not quiet:
        typer.echo(
            f"note: {dropped} of {report.inputs['rows_read']} rows dropped for missing "
            "values (--nan drop).",
            err=True,
        )
    _print_report(report, output_format)


def _roles(entries: list[str]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for entry in entries:
        role, sep, columns = entry.partition("=")
        if not sep or not role.strip() or not columns.strip():
            raise UsageError(f"--col {entry} is not ROLE=COLS.", "Example: --col var=sigma2")
        if role.strip() in ("pred", "target", "weight"):
            raise UsageError(f"--col {entry}: use -p, -t or -w for the {role.strip()} role.")
        roles[role.strip()] = columns.strip()
    return roles


class _progress:
    """A transient rich progress line on a terminal's stderr, for inputs large enough to wait on."""

    LARGE_BYTES = 64 << 20

    def __init__(self, quiet: bool, files: list[str]) -> None:
        self.bar: Any = None
        if quiet or os.environ.get("CI") or not sys.stderr.isatty():
            return
        sizes = [os.path.getsize(f) for f in files if f != "-" and os.path.isfile(f)]
        if files and len(sizes) == len(files) and sum(sizes) < self.LARGE_BYTES:
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task("reading", total=None)
        return lambda rows: self.bar.update(task, description=f"{rows:,} rows read")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_report(report: Any, output_format: str) -> None:
    from losscli.report import render

    if output_format == "auto":
        output_format = "table" if sys.stdout.isatty() else "json"
    if output_format == "table":
        from rich.console import Console

        Console().print(render.to_table(report))
        return
    sys.stdout.write(render.render_text(report, output_format))
    sys.stdout.flush()


@app.command("list")
def list_command(
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="table (default) or json.")
    ] = "table",
) -> None:
    """List every loss: name, aliases, family, parameters, direction."""
    from losscli.report.catalogue import catalogue_json, catalogue_table

    if output_format == "json":
        sys.stdout.write(catalogue_json())
        return
    if output_format != "table":
        raise UsageError(f"--format {output_format} is unknown for list.", "Use table or json.")
    from rich.console import Console

    Console().print(catalogue_table())


@app.command("describe")
def describe_command(
    name: Annotated[str, typer.Argument(help="A loss name or alias, e.g. huber.")],
) -> None:
    """Show one loss: formula, parameters, input roles, conventions and an example."""
    from losscli.losses import get_loss
    from losscli.report.catalogue import description

    sys.stdout.write(description(get_loss(name)))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``losscli`` command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("LOSSCLI_DEBUG", "") not in ("", "0")
    args = [arg for arg in args if arg != "--debug"]
    try:
        code = typer.main.get_command(app).main(
            args=args, prog_name="losscli", standalone_mode=False
        )
        sys.stdout.flush()
        return code if isinstance(code, int) else 0
    except LossCliError as error:
        _fail(str(error))
        return error.exit_code
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        _fail("interrupted.")
        return 130
    except Exception as error:  # noqa: BLE001
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            return _usage_error(error)
        if debug:
            raise
        _fail(
            f"internal error: {type(error).__name__}: {error}\n  This is a bug in losscli; "
            "rerun with --debug (or LOSSCLI_DEBUG=1) for the traceback and report it."
        )
        return EXIT_INTERNAL


def _usage_error(error: Any) -> int:
    """Typer/click usage errors as one line plus a pointer to --help."""
    if getattr(error, "exit_code", EXIT_USAGE) == 0:
        return 0
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "losscli"
    _fail(f"{error.format_message()}\n  See '{command} --help'.")
    return EXIT_USAGE


def _fail(message: str) -> None:
    sys.stderr.write(f"losscli: error: {message}\n")
    sys.stderr.flush()


def _closed_pipe() -> int:
    # The reader of our stdout went away (| head): stop quietly, and keep Python from complaining
    # again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0
