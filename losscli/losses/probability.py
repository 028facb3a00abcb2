"""What classification losses share: stable log-probabilities, class targets and input checks.

A loss says what its ``pred`` holds with ``input=probs|logits|logprobs``. Everything here turns
predictions into log-probabilities without overflow (log-sum-exp, log1p(exp(-|x|))) and targets
into integer class indices or probability rows, and names the row of anything that cannot be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from losscli.errors import InputError, RowProblem, option
from losscli.losses.registry import Param, Requirement, format_value

INPUTS = ("probs", "logits", "logprobs")
ROW_SUM_TOLERANCE = 1e-6
LOG_CLAMP = -100.0  # PyTorch's BCELoss floor on each log term
# The losses parameter, marked for hints that show a spec (the engine fills in {loss}).
LOSSES = option("losses")


def in_unit(v: np.ndarray) -> np.ndarray | bool:
    """Which elements lie in [0, 1]: True at once when the extremes do, else a mask.

    A minimum and a maximum are two passes without temporaries; the mask takes three passes and
    two arrays. A missing value makes both extremes NaN, and then the mask says where.
    """
    if v.size and v.min() >= 0 and v.max() <= 1:
        return True
    return (v >= 0) & (v <= 1)


def input_param(default: str, choices: tuple[str, ...] = INPUTS, holds: str = "pred") -> Param:
    return Param("input", str, default, f"what {holds} holds", choices=choices)


# ------------------------------------------------------------------------- stable log forms


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(1 / (1 + exp(-x))) without overflow: min(x, 0) - log1p(exp(-|x|))."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(log_sigmoid(x))


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax by log-sum-exp; rows of +-1e4 stay finite."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def log_clamped(p: np.ndarray) -> np.ndarray:
    return np.maximum(np.log(p), LOG_CLAMP)


def binary_logs(pred: np.ndarray, input: str) -> tuple[np.ndarray, np.ndarray]:
    """(log p, log(1 - p)) of a binary prediction; probabilities clamp each log at -100."""
    if input == "logits":
        return log_sigmoid(pred), log_sigmoid(-pred)
    return log_clamped(pred), np.maximum(np.log1p(-pred), LOG_CLAMP)


def binary_nll(
    target: np.ndarray, log_p: np.ndarray, log_not_p: np.ndarray, pos_weight: float = 1.0
) -> np.ndarray:
    """-(pos_weight t log p + (1 - t) log(1 - p)): binary cross-entropy from its two logs."""
    return -(pos_weight * target * log_p + (1.0 - target) * log_not_p)


def class_log_probs(pred: np.ndarray, input: str, loss: str) -> np.ndarray:
    """Row-wise log-probabilities of K class scores, normalised as PyTorch's cross-entropy does."""
    scores = class_scores(pred, loss)
    if input == "probs":
        scores = np.log(scores)
    return log_softmax(scores)


def class_scores(pred: np.ndarray, loss: str) -> np.ndarray:
    if pred.ndim != 2 or pred.shape[1] < 2:
        raise InputError(
            f"{loss} needs K >= 2 class scores per row, but pred is one column.",
            f"Select a column group ({option('pred')} 'logit_*'), a comma list or a list "
            "column for pred.",
        )
    return pred


# --------------------------------------------------------------------------------- targets


def class_index(
    target: np.ndarray, classes: int, ignore_index: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer classes of an index column, and the mask of rows that count (not ignored, not NaN).

    Ignored and NaN rows get class 0 so they can index; callers zero or NaN them afterwards.
    """
    missing = np.isnan(target)
    ignored = target == ignore_index if ignore_index is not None else np.zeros_like(missing)
    valid = (target == np.floor(target)) & (target >= 0) & (target < classes)
    bad = ~(valid | ignored | missing)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = (
            f"Class indices count from 0 and pred has {classes} columns; "
            f"check {option('target')} and the pred columns"
        )
        if target[row] == classes and (target[~missing] >= 1).all():
            # Labels 1..K (R, MATLAB, a 1-based export) against K scores: each row would be paired
            # with the next class's score, so this is refused, never shifted by a guess.
            hint = (
                f"Labels 1..{classes}? Class indices count from 0, as in PyTorch: "
                "subtract 1 from them"
            )
        raise RowProblem(
            row,
            "target",
            f"holds {target[row]:g}, which is not a class index 0..{classes - 1}",
            hint,
        )
    counted = ~(ignored | missing)
    return np.where(counted, target, 0).astype(np.intp), counted


def target_rows(target: np.ndarray, classes: int) -> np.ndarray:
    """Probability rows (n, K) from an index column or from given rows (one-hot or soft)."""
    if target.ndim == 2:
        return target
    index, counted = class_index(target, classes)
    rows = np.zeros((len(target), classes))
    rows[np.arange(len(target)), index] = 1.0
    rows[~counted] = np.nan
    return rows


def hard_class(target: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Class indices from an index column or one-hot rows; soft rows are an input error."""
    if target.ndim == 1:
        return class_index(target, classes)
    one_hot = (np.isin(target, (0.0, 1.0))).all(axis=1) & (target.sum(axis=1) == 1)
    missing = np.isnan(target).any(axis=1)
    bad = ~(one_hot | missing)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise RowProblem(
            row,
            "target",
            "is not a one-hot row (one 1, zeros elsewhere)",
            f"Give class indices ({option('target')} label) or one-hot rows",
        )
    return np.where(missing, 0, target.argmax(axis=1)).astype(np.intp), ~missing


def require_labels(
    target: np.ndarray, labels: tuple[float, ...], loss: str, soft: bool = False
) -> None:
    """Binary targets must be these labels (or lie between them when ``soft``)."""
    ok = np.isin(target, labels) | np.isnan(target)
    if soft:
        ok |= (target >= min(labels)) & (target <= max(labels))
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        shown = " or ".join(f"{label:g}" for label in labels)
        raise RowProblem(
            row,
            "target",
            f"holds {target[row]:g}, not a binary label ({shown})",
            f"With one pred column {loss} is binary; give K pred columns for classes",
        )


def pick(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[i, index[i]] for every row."""
    return np.take_along_axis(values, index[:, None], axis=1)[:, 0]


def class_weights(weight: tuple[float, ...] | None, classes: int, loss: str) -> np.ndarray:
    if weight is None:
        return np.ones(classes)
    if len(weight) != classes:
        raise InputError(
            f"{loss}: weight={format_value(weight)} gives {len(weight)} class weights but pred "
            f"has {classes} classes.",
            f"Give one weight per class, e.g. weight=[{','.join(['1'] * classes)}].",
        )
    return np.asarray(weight, dtype=float)


# ------------------------------------------------------------------- checks on the inputs


def _is(input: str):
    return lambda params: params.get("input") == input


def _row_sums(values: np.ndarray) -> np.ndarray:
    return np.abs(values.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE


def _row_log_sums(values: np.ndarray) -> np.ndarray:
    top = values.max(axis=1)
    total = top + np.log(np.exp(values - top[:, None]).sum(axis=1))
    return np.abs(total) <= ROW_SUM_TOLERANCE


def _sum_text(row: np.ndarray) -> str:
    return f"sums to {row.sum():.9g}"


def _log_sum_text(row: np.ndarray) -> str:
    return f"has probabilities summing to {np.exp(row).sum():.9g}"


def probability_checks(
    role: str = "pred",
    rows: bool = True,
    rows_when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
) -> tuple[Requirement, ...]:
    """``role`` holds probabilities in [0, 1] (K-wide rows summing to 1, where ``rows_when``
    holds) when input=probs."""
    active = _is("probs")
    checks = [
        Requirement(
            role,
            lambda v, params: not active(params) or in_unit(v),
            "to be probabilities in [0, 1] (input=probs)",
            "these look like logits: add input=logits (e.g. " + LOSSES + " {loss}:input=logits)",
        )
    ]
    if rows:
        checks.append(
            Requirement(
                role,
                lambda v, params: (
                    not (active(params) and rows_when(params)) or v.ndim < 2 or _row_sums(v)
                ),
                "rows to sum to 1 (input=probs)",
                "pass input=logits if these are scores; otherwise normalise each row",
                rowwise=_sum_text,
            )
        )
    return tuple(checks)


def target_row_checks(
    when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
) -> tuple[Requirement, ...]:
    """Targets given as K columns are probability rows: in [0, 1], each summing to 1."""
    return (
        Requirement(
            "target",
            lambda v, params: not when(params) or v.ndim < 2 or in_unit(v),
            "rows of probabilities in [0, 1]",
            "give one-hot or probability rows, or class indices as one column",
        ),
        Requirement(
            "target",
            lambda v, params: not when(params) or v.ndim < 2 or _row_sums(v),
            "rows that sum to 1",
            "each row of target probabilities must sum to 1",
            rowwise=_sum_text,
        ),
    )


def log_target_row_checks(
    when: Callable[[Mapping[str, Any]], bool],
) -> tuple[Requirement, ...]:
    """Targets given as K columns of log-probabilities (kl_div's log_target=true)."""
    return (
        Requirement(
            "target",
            lambda v, params: not when(params) or v.ndim < 2 or (v <= 0),
            "to be log-probabilities (<= 0)",
            "pass log_target=false if target holds probabilities",
        ),
        Requirement(
            "target",
            lambda v, params: not when(params) or v.ndim < 2 or _row_log_sums(v),
            "rows of log-probabilities (their exponentials summing to 1)",
            "apply log_softmax to each row, or pass log_target=false for probabilities",
            rowwise=_log_sum_text,
        ),
    )


def log_probability_checks(
    role: str = "pred",
    always: bool = False,
    rows_when: Callable[[Mapping[str, Any]], bool] = lambda params: True,
) -> tuple[Requirement, ...]:
    """``role`` holds log-probabilities (<= 0, rows whose exponentials sum to 1 where
    ``rows_when`` holds)."""
    active = (lambda params: True) if always else _is("logprobs")
    return (
        *logit_checks(role),
        Requirement(
            role,
            lambda v, params: not active(params) or (v <= 0),
            "to be log-probabilities (<= 0)",
            "these look like logits: use input=logits (ce takes logits)",
        ),
        Requirement(
            role,
            lambda v, params: (
                not (active(params) and rows_when(params)) or v.ndim < 2 or _row_log_sums(v)
            ),
            "rows of log-probabilities (their exponentials summing to 1)",
            "apply log_softmax first, or pass input=logits if these are scores",
            rowwise=_log_sum_text,
        ),
    )


def logit_checks(role: str = "pred") -> tuple[Requirement, ...]:
    """Class scores read as logits by default must not all be probability rows.

    Softmax of probabilities is a number, but not the one meant: sklearn's log_loss takes
    predict_proba's rows, PyTorch's CrossEntropyLoss logits. Logits whose rows all lie in [0, 1]
    and sum to 1 do not occur by chance, so such input (two rows or more, not all one-hot) is
    refused unless input=logits is written.
    """
    return (
        Requirement(
            role,
            lambda v, params: not default_logits(params) or not _all_probability_rows(v),
            "to be logits (input=logits, the default)",
            "these look like probabilities: add input=probs (e.g. "
            + LOSSES
            + " {loss}:input=probs), "
            "or write input=logits if they are logits",
            rowwise=_probability_rows_text,
        ),
    )


def default_logits(params: Mapping[str, Any]) -> bool:
    """Logits taken by default, not written out: the input checked to look like logits."""
    return params.get("input") == "logits" and "input" not in getattr(params, "given", ())


def _all_probability_rows(values: np.ndarray) -> bool:
    if values.ndim < 2 or values.shape[1] < 2 or len(values) < 2:
        return False
    # Logits almost always leave [0, 1]: two passes without temporaries decide (a NaN goes on).
    if values.min() < 0 or values.max() > 1:
        return False
    rows = values[~np.isnan(values).any(axis=1)]
    if len(rows) < 2 or not ((rows >= 0) & (rows <= 1)).all():
        return False
    # One-hot rows are the logits of many a hand-made example; a row of one value is no evidence.
    fractional = bool(((rows > 0) & (rows < 1)).any())
    return fractional and bool(_row_sums(rows).all())


def _probability_rows_text(row: np.ndarray) -> str:
    return "sums to 1 with every value in [0, 1] (as do all rows read with it)"


def unit_interval(role: str, what: str) -> Requirement:
    return Requirement(
        role,
        lambda v, params: in_unit(v),
        "in [0, 1]",
        f"{what} must lie between 0 and 1",
    )
