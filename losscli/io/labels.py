"""Class labels as people store them: text (``cat``, ``dog``; ``yes``, ``no``) read as the class
numbers the losses take.

``classes=("cat", "dog", "bird")`` numbers each label by its place (cat 0, dog 1, bird 2): the
order of the score columns. ``pos_label="yes"`` makes a binary target: that label 1, the one other
label 0. A label outside the classes, or a third label beside the positive one, stops the run
with the labels that match nothing: never a guessed class. A column of numbers is read as numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from losscli.errors import InputError, UsageError, excerpt, option
from losscli.io.text_readers import MISSING_TEXT

if TYPE_CHECKING:
    from losscli.io.chunks import ReadPlan

SHOWN_LABELS = 5
# How text labels become numbers: (classes, pos_label), from ``label_rule``.
LabelRule = tuple[tuple[str, ...], str | None]


@dataclass
class LabelCoding:
    """How one target column's text becomes numbers; ``others`` collects, over the whole run,
    the labels seen besides ``pos_label``."""

    column: str
    classes: tuple[str, ...] = ()
    pos_label: str | None = None
    others: set[str] = field(default_factory=set)

    def encode(self, values: Any, where: Callable[[int], str], number: Any) -> np.ndarray:
        """``values`` (an Arrow array) as float64 numbers; nulls as NaN. ``where`` names a row
        of them ('row 7 of preds.csv'); ``number`` reads a column of numbers."""
        if pa.types.is_dictionary(values.type):  # a pandas category column, in Parquet
            values = values.dictionary_decode()
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return np.asarray(number(values))
        texts = values.to_numpy(zero_copy_only=False)
        # Text columns keep '' and NA as written: those are missing labels, as in a number column.
        missing = set(MISSING_TEXT)
        written = [text is not None and text.strip() not in missing for text in texts.tolist()]
        present = np.asarray(values.is_valid()) & np.array(written, dtype=bool)
        if self.pos_label is not None:
            return self._binary(texts, present, where)
        return self._indexed(texts, present, where)

    def _indexed(
        self, texts: np.ndarray, present: np.ndarray, where: Callable[[int], str]
    ) -> np.ndarray:
        known = {label: float(index) for index, label in enumerate(self.classes)}
        pairs = zip(texts.tolist(), present.tolist(), strict=True)
        codes = np.array([known.get(text, -1.0) if ok else np.nan for text, ok in pairs])
        unknown = present & (codes < 0)
        if unknown.any():
            labels = sorted({str(text) for text in texts[unknown]})
            first = where(int(np.flatnonzero(unknown)[0]))
            raise InputError(
                f"Column '{self.column}' holds {_labels(labels)} (first at {first}) that "
                f"{'matches' if len(labels) == 1 else 'match'} no class of "
                f"{option('classes')} ({', '.join(self.classes)}).",
                "Name every class, in the order of the score columns, or fix the labels.",
            )
        return codes

    def _binary(
        self, texts: np.ndarray, present: np.ndarray, where: Callable[[int], str]
    ) -> np.ndarray:
        positive = present & (texts == self.pos_label)
        self.others |= {str(text) for text in texts[present & ~positive]}
        if len(self.others) > 1:
            raise InputError(
                f"Column '{self.column}' holds {_labels(sorted(self.others))} besides the "
                f"positive label '{self.pos_label}' (by {where(len(texts) - 1)}): a binary "
                "target has one other label.",
                f"Recode the labels to two, or check {option('pos_label')}.",
            )
        return np.where(present, positive.astype(float), np.nan)


def _labels(labels: Sequence[str]) -> str:
    shown = ", ".join(f"'{excerpt(label)}'" for label in labels[:SHOWN_LABELS])
    more = f" and {len(labels) - SHOWN_LABELS} more" if len(labels) > SHOWN_LABELS else ""
    noun = "the label" if len(labels) == 1 else "the labels"
    return f"{noun} {shown}{more}"


def class_names(classes: str | Sequence[str] | None) -> tuple[str, ...]:
    """``classes`` (a comma list or a sequence of names) as a tuple; names must differ."""
    if classes is None:
        return ()
    names = classes.split(",") if isinstance(classes, str) else [str(c) for c in classes]
    names = [name.strip() for name in names]
    if len(names) < 2 or not all(names) or len(set(names)) != len(names):
        raise UsageError(
            f"{option('classes')} {','.join(names)}: give two or more different class names.",
            f"Example: {option('classes')} cat,dog,bird (in the order of the score columns)",
        )
    return tuple(names)


def check_suffixes(classes: Sequence[str], columns: Sequence[str]) -> None:
    """Score columns named for their classes (``score_cat``) must be in the classes' order."""
    if len(columns) != len(classes):
        raise UsageError(
            f"{option('classes')} names {len(classes)} classes but the scores have "
            f"{len(columns)} columns ({', '.join(columns)}).",
            "Give one class per score column, in their order.",
        )
    matched = [next((c for c in classes if column.endswith(c)), None) for column in columns]
    if all(matched) and list(matched) != list(classes):
        raise UsageError(
            f"{option('classes')} {','.join(classes)} is not the order of the score columns "
            f"({', '.join(columns)}).",
            f"Give {option('classes')} {','.join(str(m) for m in matched)}",
        )


def suffix_classes(columns: Sequence[str]) -> tuple[str, ...] | None:
    """The class names score columns are named for, after their common prefix (``score_cat``,
    ``score_dog``: cat, dog); None when the rest is empty or repeats."""
    if len(columns) < 2:
        return None
    prefix = _common_prefix(columns)
    names = tuple(column[len(prefix) :] for column in columns)
    return names if all(names) and len(set(names)) == len(names) else None


def _common_prefix(columns: Sequence[str]) -> str:
    first, last = min(columns), max(columns)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def label_rule(
    classes: str | Sequence[str] | None, pos_label: str | None, pred: Sequence[str]
) -> LabelRule | None:
    """How text labels become numbers: (classes, pos_label), or None when neither is asked.
    ``pred`` are the score columns, whose names ``classes="auto"`` reads."""
    if classes is None and pos_label is None:
        return None
    if classes is not None and pos_label is not None:
        raise UsageError(
            f"{option('classes')} names the classes of class labels, {option('pos_label')} the "
            "positive one of binary labels: give one of them.",
        )
    if classes == "auto":
        names = suffix_classes(pred)
        if names is None:
            raise UsageError(
                f"{option('classes')} auto takes the classes from the score columns' names, "
                f"but {', '.join(pred) or 'the scores'} name no classes after a common prefix.",
                f"Name them: {option('classes')} cat,dog,bird",
            )
    else:
        names = class_names(classes)
        if len(pred) > 1 and names:
            check_suffixes(names, pred)
    return names, pos_label


def with_labels(plan: ReadPlan, rule: LabelRule | None, role: str = "target") -> ReadPlan:
    """The plan with its target column (of ``role``), if it reads one, read as class labels by
    ``rule`` (``label_rule``): the predictions' input, a targets file or a candidate's own."""
    target = plan.roles.get(role, ())
    if rule is None or not target:
        return plan
    if len(target) != 1:
        raise UsageError(
            f"{option('classes')} and {option('pos_label')} read one target column of labels; "
            f"the targets are {len(target)} columns ({', '.join(target)}).",
            "Name one column with the target option, or write the labels as numbers.",
        )
    names, pos_label = rule
    coding = LabelCoding(target[0], classes=names, pos_label=pos_label)
    return replace(plan, labels={target[0]: coding})
