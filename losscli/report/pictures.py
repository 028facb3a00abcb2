"""Pictures drawn from a ``Picture``'s numbers: matplotlib files (.png, .svg, .pdf), inline SVG
for HTML, and text for a terminal (plotext). Both libraries are the ``plot`` extra's, imported
only here and only when a picture is asked for."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

from losscli.errors import UsageError, option

PICTURE_SUFFIXES = (".json", ".png", ".svg", ".pdf", ".html")
DRAWN = (".png", ".svg", ".pdf")
INSTALL = "pip install 'losscli[plot]'"
INK, ACCENT, MUTED, GOOD, BAD = "#1f3a5f", "#d1495b", "#8d99ae", "#2a9d8f", "#e76f51"
QUANTILE_COLOURS = ("#edae49", "#d1495b", "#66101f")
PANEL_INCHES = (5.2, 3.4)


def pyplot() -> Any:
    """matplotlib's pyplot on a backend that draws into files, or one line on how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "Pictures as .png, .svg, .pdf or in an HTML report need matplotlib, which is not "
            "installed.",
            f"Install it with {INSTALL} (or write {option('output')} FILE.json for the numbers).",
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "path",  # no font to fetch: text is drawn as outlines
            "svg.hashsalt": "losscli",  # the same picture gives the same bytes
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "legend.frameon": False,
        }
    )
    return plt


def figure_bytes(document: dict[str, Any], fmt: str) -> bytes:
    """The picture of ``document`` (``Picture.to_dict()``) as png, svg or pdf bytes."""
    plt = pyplot()
    figure = draw(plt, document)
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "pdf" else {"Date": None} if fmt == "svg" else None
    figure.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
    return buffer.getvalue()


def draw(plt: Any, document: dict[str, Any]) -> Any:
    """A matplotlib figure of every panel of ``document``."""
    kind, panels = document["kind"], document["panels"]
    if kind == "curve":
        figure, axes = plt.subplots(figsize=PANEL_INCHES, layout="constrained")
        _curves(axes, panels)
        return figure
    columns = 1 if kind == "groups" else 2
    rows = max(len(panels), 1)
    height = PANEL_INCHES[1]
    if kind == "groups":  # a bar a third of an inch high, and room for the axis
        height = 1.0 + 0.32 * max((len(panel["groups"]) for panel in panels), default=1)
    figure, grid = plt.subplots(
        rows,
        columns,
        figsize=(PANEL_INCHES[0] * 2, height * rows),
        layout="constrained",
        squeeze=False,
    )
    for panel, axes in zip(panels, grid, strict=False):
        DRAWERS[kind](axes, panel)
    return figure


def _distribution(axes: Any, panel: dict[str, Any]) -> None:
    """Histogram with the mean and quantiles marked, and the ECDF beside it."""
    histogram, ecdf = axes
    edges, counts = panel["edges"], panel["counts"]
    if counts:
        if panel["scale"] == "log" and edges[0] <= 0:  # the bin of tiny numbers, on a log axis
            edges = [edges[1] / 10 ** (1 / 20), *edges[1:]]
        # One filled outline, not a rectangle per bin: hundreds of log bins stay one SVG path.
        histogram.stairs(counts, edges, fill=True, color=INK, alpha=0.85)
        ecdf.step(edges, [0.0, *panel["ecdf"]], where="post", color=INK)
    for ax in axes:
        if panel["scale"] == "log":
            ax.set_xscale("log")
        _marks(ax, panel)
        ax.set_xlabel(f"{panel['label']} per row")
    histogram.set_ylabel("rows")
    ecdf.set_ylabel("fraction of rows below")
    ecdf.set_ylim(0, 1.02)
    zeros = f", {panel['zeros']} at 0, not shown" if panel.get("zeros") else ""
    histogram.set_title(f"{panel['label']}: {panel['rows']:,} rows{zeros}")
    ecdf.set_title("cumulative")
    histogram.legend(loc="upper right")


def _marks(ax: Any, panel: dict[str, Any]) -> None:
    if panel.get("mean") is not None:
        ax.axvline(panel["mean"], color=ACCENT, linestyle="-", label=f"mean {panel['mean']:.4g}")
    for (q, value), colour in zip(panel["quantiles"].items(), QUANTILE_COLOURS, strict=False):
        if value is not None and (panel["scale"] != "log" or value > 0):
            ax.axvline(value, color=colour, linestyle="--", label=f"q{q} {value:.4g}")


def _calibration(axes: Any, panel: dict[str, Any]) -> None:
    """Observed frequency against mean predicted probability, and the rows per bin."""
    curve, counts = axes
    curve.plot([0, 1], [0, 1], color=MUTED, linestyle=":", label="perfectly calibrated")
    curve.plot(panel["prob_pred"], panel["prob_true"], "o-", color=INK, label=panel["label"])
    curve.set_xlim(0, 1)
    curve.set_ylim(0, 1)
    curve.set_aspect("equal")
    curve.set_xlabel("mean predicted probability")
    curve.set_ylabel("observed frequency")
    ece = panel.get("ece")
    shown = f"ECE {ece:.4f}" if ece is not None else "no rows"
    curve.set_title(f"{panel['label']}: reliability ({panel['strategy']} bins), {shown}")
    curve.legend(loc="upper left")
    lows, highs = panel["bin_low"], panel["bin_high"]
    widths = [high - low for low, high in zip(lows, highs, strict=True)]
    counts.bar(lows, panel["counts"], width=widths, align="edge", color=INK, alpha=0.85)
    counts.set_xlim(0, 1)
    counts.set_xlabel("predicted probability")
    counts.set_ylabel("rows")
    counts.set_title("rows per bin")


def _groups(axes: Any, panel: dict[str, Any]) -> None:
    """One horizontal bar per group, the worst at the top, with its interval."""
    (ax,) = axes
    groups = panel["groups"]
    names = [", ".join(f"{v}" for v in entry["group"].values()) for entry in groups]
    values = [entry["value"] if entry["value"] is not None else math.nan for entry in groups]
    ax.barh(range(len(groups)), values, color=INK, alpha=0.85)
    if groups and "low" in groups[0]:
        low = [
            v - (e["low"] if e["low"] is not None else v)
            for v, e in zip(values, groups, strict=True)
        ]
        high = [
            (e["high"] if e["high"] is not None else v) - v
            for v, e in zip(values, groups, strict=True)
        ]
        ax.errorbar(
            values, range(len(groups)), xerr=[low, high], fmt="none", ecolor=ACCENT, capsize=3
        )
    ax.set_yticks(range(len(groups)), names)
    ax.invert_yaxis()
    ax.set_xlabel(panel["label"])
    shown = len(groups)
    total = panel["groups_total"]
    more = f" (the worst {shown} of {total})" if total > shown else ""
    ax.set_title(f"{panel['label']} by {', '.join(panel['by'])}, worst first{more}")


def _residuals(axes: Any, panel: dict[str, Any]) -> None:
    """Prediction vs target and residual vs prediction: points when few, else a density."""
    fit, spread = axes
    points = panel.get("points")
    if points is not None:
        target, pred = points["target"], points["prediction"]
        fit.scatter(target, pred, s=8, color=INK, alpha=0.6)
        spread.scatter(
            pred, [t - p for t, p in zip(target, pred, strict=True)], s=8, color=INK, alpha=0.6
        )
    else:
        _density(fit, panel["prediction_vs_target"])
        _density(spread, panel["residual_vs_prediction"])
    _diagonal(fit)
    spread.axhline(0, color=ACCENT, linestyle=":")
    fit.set_xlabel("target")
    fit.set_ylabel("prediction")
    fit.set_title(f"prediction vs target ({panel['rows']:,} values)")
    spread.set_xlabel("prediction")
    spread.set_ylabel("residual (target - prediction)")
    spread.set_title("residual vs prediction")


def _density(ax: Any, grid: dict[str, Any]) -> None:
    import numpy as np
    from matplotlib.colors import LogNorm

    counts = np.asarray(grid["counts"], dtype=float).T  # rows: y bins
    if not counts.size:
        return
    shown = np.where(counts > 0, counts, np.nan)
    # Rasterized: one small image in the SVG instead of a path per cell.
    mesh = ax.pcolormesh(
        grid["x_edges"], grid["y_edges"], shown, cmap="viridis", norm=LogNorm(), rasterized=True
    )
    ax.figure.colorbar(mesh, ax=ax, label="rows")


def _diagonal(ax: Any) -> None:
    low = min(ax.get_xlim()[0], ax.get_ylim()[0])
    high = max(ax.get_xlim()[1], ax.get_ylim()[1])
    ax.plot([low, high], [low, high], color=ACCENT, linestyle=":", label="prediction = target")
    ax.legend(loc="upper left")


def _compare(axes: Any, panel: dict[str, Any]) -> None:
    """The per-row differences, candidate minus baseline: below 0 the candidate does better."""
    _distribution(axes, panel)
    for ax in axes:
        ax.axvline(0, color=GOOD, linestyle=":", label="no difference")
        ax.set_xlabel(f"{panel['label']}: candidate - baseline per row")
    axes[0].set_title(f"{panel['label']}: per-row difference ({panel['rows']:,} rows)")
    axes[0].legend(loc="upper right")


def _curves(ax: Any, panels: list[dict[str, Any]]) -> None:
    axis = panels[0]["x"]
    for panel in panels:
        ax.plot(panel["points"][panel["x"]], panel["points"]["loss"], label=panel["label"])
    ax.set_xlabel(
        {
            "error": "error (prediction - target)",
            "logit": "logit of the true class",
            "probability": "probability of the true class",
        }.get(axis, axis)
    )
    ax.set_ylabel("loss")
    ax.set_title("loss curves")
    ax.legend()


DRAWERS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "distribution": _distribution,
    "calibration": _calibration,
    "groups": _groups,
    "residuals": _residuals,
    "compare": _compare,
}


def text_picture(document: dict[str, Any], width: int, height: int) -> str:
    """The first panel of ``document`` as a text plot for a terminal."""
    try:
        import plotext as plt
    except ImportError:
        raise UsageError(
            "A picture in the terminal needs plotext, which is not installed.",
            f"Install it with {INSTALL}, or write {option('output')} FILE.json.",
        ) from None
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    TEXT_DRAWERS[document["kind"]](plt, document["panels"])
    return str(plt.uncolorize(plt.build())).rstrip() + "\n"


def _text_histogram(plt: Any, panels: list[dict[str, Any]]) -> None:
    panel = panels[0]
    edges = panel["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    if panel["scale"] == "log":
        plt.xscale("log")
        centres = [math.sqrt(a * b) for a, b in zip(edges, edges[1:], strict=False)]
    if centres:
        plt.bar(centres, panel["counts"], width=1)
    if panel.get("mean") is not None:
        plt.vline(panel["mean"])
    plt.title(f"{panel['label']}: {panel['rows']:,} rows, mean {panel.get('mean') or 0:.4g}")
    plt.xlabel(f"{panel['label']} per row")


def _text_calibration(plt: Any, panels: list[dict[str, Any]]) -> None:
    panel = panels[0]
    plt.plot([0, 1], [0, 1], label="perfectly calibrated")
    plt.plot(panel["prob_pred"], panel["prob_true"], marker="dot", label=panel["label"])
    plt.xlim(0, 1)
    plt.ylim(0, 1)
    ece = panel.get("ece")
    plt.title(f"{panel['label']}: reliability, ECE {ece if ece is None else round(ece, 4)}")
    plt.xlabel("mean predicted probability")


def _text_groups(plt: Any, panels: list[dict[str, Any]]) -> None:
    panel = panels[0]
    names = [", ".join(str(v) for v in e["group"].values()) for e in panel["groups"]][:20]
    values = [e["value"] or 0.0 for e in panel["groups"]][:20]
    plt.bar(names[::-1], values[::-1], orientation="horizontal", width=0.6)
    plt.title(f"{panel['label']} by {', '.join(panel['by'])}, worst first")


def _text_residuals(plt: Any, panels: list[dict[str, Any]]) -> None:
    panel = panels[0]
    points = panel.get("points")
    if points is not None:
        plt.scatter(points["target"], points["prediction"])
    else:
        grid = panel["prediction_vs_target"]
        xs, ys = grid["x_edges"], grid["y_edges"]
        cells = [(i, j) for i, row in enumerate(grid["counts"]) for j, c in enumerate(row) if c]
        plt.scatter(
            [(xs[i] + xs[i + 1]) / 2 for i, _ in cells], [(ys[j] + ys[j + 1]) / 2 for _, j in cells]
        )
    plt.title(f"prediction vs target ({panel['rows']:,} values)")
    plt.xlabel("target")


def _text_curves(plt: Any, panels: list[dict[str, Any]]) -> None:
    for panel in panels:
        plt.plot(panel["points"][panel["x"]], panel["points"]["loss"], label=panel["label"])
    plt.title("loss curves")
    plt.xlabel(panels[0]["x"])


TEXT_DRAWERS: dict[str, Callable[[Any, list[dict[str, Any]]], None]] = {
    "distribution": _text_histogram,
    "compare": _text_histogram,
    "calibration": _text_calibration,
    "groups": _text_groups,
    "residuals": _text_residuals,
    "curve": _text_curves,
}
