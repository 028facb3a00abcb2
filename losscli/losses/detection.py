"""Bounding-box regression losses: IoU, GIoU, DIoU and CIoU of a predicted and a true box per row.

``pred`` and ``target`` are four numbers per row (four columns, or a list column) in ``format``
xyxy (corners), xywh (corner and size) or cxcywh (centre and size). The formulas and the placement
of ``eps`` follow torchvision's box losses.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.errors import InputError, RowProblem, option
from losscli.losses.registry import Example, Param, register

FAMILY = "detection"
HAND = "hand-worked"
FOUR_OVER_PI_SQUARED = 4.0 / math.pi**2

FORMAT = Param(
    "format",
    str,
    "xyxy",
    "xyxy (x1, y1, x2, y2), xywh (x1, y1, w, h) or cxcywh (cx, cy, w, h)",
    choices=("xyxy", "xywh", "cxcywh"),
)
EPS = Param("eps", float, 1e-7, "keeps the divisions finite (torchvision's placement)", ge=0)
NOTES = (
    "pred and target are 4 numbers per row (four columns such as -p 'box_*', or a list "
    "column). A box whose x2 <= x1 or y2 <= y1 (a width or height <= 0) is an input error "
    "naming the row. Agrees with torchvision to about 1e-7, the size of eps."
)


def _corners(boxes: np.ndarray, format: str, role: str) -> np.ndarray:
    """Boxes as (n, 4) corners x1, y1, x2, y2; inverted or empty boxes are an input error."""
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        width = 1 if boxes.ndim == 1 else boxes.shape[1]
        raise InputError(
            f"Boxes need 4 numbers per row, but {role} has {width}.",
            f"Select four columns (e.g. {option('pred')} 'box_*') or a list column of 4 "
            f"for {role}.",
        )
    a, b, c, d = boxes.T
    if format == "xywh":
        corners = np.column_stack([a, b, a + c, b + d])
    elif format == "cxcywh":
        corners = np.column_stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2])
    else:
        corners = boxes
    bad = (corners[:, 2] <= corners[:, 0]) | (corners[:, 3] <= corners[:, 1])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise RowProblem(
            row,
            role,
            f"holds a degenerate or inverted box {_shown(boxes[row])} in format={format}",
            "Give boxes with positive width and height, and check format= (xyxy, xywh, cxcywh)",
        )
    return corners


def _shown(box: np.ndarray) -> str:
    return "(" + ", ".join(f"{value:g}" for value in box) + ")"


def _geometry(pred, target, format, eps):
    """What the four losses share: corners, IoU (inter / (union + eps)), union, enclosing box."""
    p, t = _corners(pred, format, "pred"), _corners(target, format, "target")
    width = np.maximum(np.minimum(p[:, 2], t[:, 2]) - np.maximum(p[:, 0], t[:, 0]), 0.0)
    height = np.maximum(np.minimum(p[:, 3], t[:, 3]) - np.maximum(p[:, 1], t[:, 1]), 0.0)
    inter = width * height
    area_p = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    union = area_p + area_t - inter
    enclosing = np.column_stack(
        [np.minimum(p[:, 0], t[:, 0]), np.minimum(p[:, 1], t[:, 1]), np.maximum(p[:, 2], t[:, 2])]
        + [np.maximum(p[:, 3], t[:, 3])]
    )
    return p, t, inter / (union + eps), union, enclosing


def _distance_terms(pred, target, format, eps):
    """1 - IoU + centre distance^2 / enclosing diagonal^2, and the parts CIoU needs."""
    p, t, iou, _, c = _geometry(pred, target, format, eps)
    diagonal = (c[:, 2] - c[:, 0]) ** 2 + (c[:, 3] - c[:, 1]) ** 2 + eps
    centres = ((p[:, 0] + p[:, 2]) / 2 - (t[:, 0] + t[:, 2]) / 2) ** 2 + (
        (p[:, 1] + p[:, 3]) / 2 - (t[:, 1] + t[:, 3]) / 2
    ) ** 2
    return 1.0 - iou + centres / diagonal, iou, p, t


UNIT = {"pred": [[0.0, 0.0, 2.0, 2.0]], "target": [[1.0, 1.0, 3.0, 3.0]]}  # overlap 1, union 7


@register(
    name="box_iou",
    aliases=("iou_box",),
    family=FAMILY,
    formula="1 - intersection / (union + eps)",
    reference="torchvision.ops.box_iou",
    params=[FORMAT, EPS],
    examples=[
        Example(UNIT, 1 - 1 / 7, HAND, {"eps": 0}),
        Example(
            {"pred": [[1.0, 1.0, 2.0, 2.0]], "target": [[2.0, 2.0, 2.0, 2.0]]},
            1 - 1 / 7,
            HAND,
            {"eps": 0, "format": "cxcywh"},
        ),
    ],
    notes=NOTES,
)
def box_iou(pred, target, *, format, eps):
    """One minus the intersection over union of predicted and true boxes."""
    return 1.0 - _geometry(pred, target, format, eps)[2]


@register(
    name="giou",
    aliases=("generalized_iou",),
    family=FAMILY,
    formula="1 - IoU + (area_C - union) / (area_C + eps), C the smallest enclosing box",
    reference="torchvision.ops.generalized_box_iou_loss",
    params=[FORMAT, EPS],
    examples=[Example(UNIT, 1 - 1 / 7 + (9 - 7) / 9, HAND, {"eps": 0})],
    notes="Above 1 for boxes that do not overlap, so it still says how far apart they are. "
    + NOTES,
)
def generalized_iou(pred, target, *, format, eps):
    """IoU loss plus the share of the enclosing box that neither box covers."""
    _, _, iou, union, c = _geometry(pred, target, format, eps)
    area_c = (c[:, 2] - c[:, 0]) * (c[:, 3] - c[:, 1])
    return 1.0 - iou + (area_c - union) / (area_c + eps)


@register(
    name="diou",
    aliases=("distance_iou",),
    family=FAMILY,
    formula="1 - IoU + |centre_p - centre_t|^2 / (diagonal_C^2 + eps)",
    reference="torchvision.ops.distance_box_iou_loss",
    params=[FORMAT, EPS],
    examples=[Example(UNIT, 1 - 1 / 7 + 2 / 18, HAND, {"eps": 0})],
    notes=NOTES,
)
def distance_iou(pred, target, *, format, eps):
    """IoU loss plus the squared distance of the centres over the enclosing box's diagonal."""
    return _distance_terms(pred, target, format, eps)[0]


@register(
    name="ciou",
    aliases=("complete_iou",),
    family=FAMILY,
    formula="diou + a v, v = 4/pi^2 (atan(w_t/h_t) - atan(w_p/h_p))^2, a = v / (1 - IoU + v + eps)",
    reference="torchvision.ops.complete_box_iou_loss",
    params=[FORMAT, EPS],
    examples=[
        Example(UNIT, 1 - 1 / 7 + 2 / 18, "hand-worked: equal aspect ratios, v = 0", {"eps": 0})
    ],
    notes=NOTES,
)
def complete_iou(pred, target, *, format, eps):
    """DIoU loss plus a term for differing aspect ratios."""
    distance, iou, p, t = _distance_terms(pred, target, format, eps)
    ratio_p = np.arctan((p[:, 2] - p[:, 0]) / (p[:, 3] - p[:, 1]))
    ratio_t = np.arctan((t[:, 2] - t[:, 0]) / (t[:, 3] - t[:, 1]))
    v = FOUR_OVER_PI_SQUARED * (ratio_t - ratio_p) ** 2
    return distance + v / (1.0 - iou + v + eps) * v
