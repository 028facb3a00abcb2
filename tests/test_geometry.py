"""Masks, boxes, embeddings and face margins end to end: layouts, per-sample state and errors.

Reference values are in ``test_losses.py`` (from ``tests/reference/geometry.json``); these tests
cover how the inputs reach the losses: a mask as one row per pixel (any order, any chunking, several
files, string ids) equals the same mask as one row per image, the per-sample state grows with the
samples only, boxes in every format and layout, width checks, centers from the data or a file.
"""

from __future__ import annotations

import json
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losscli
from losscli.engine.run import update
from losscli.engine.tally import Options, Tally
from losscli.errors import DomainError, InputError, UsageError
from losscli.losses import build_request
from tests.conftest import (
    SAMPLE_DATA,
    assert_user_error,
    close,
    evaluate_arrays,
    results_of,
    run,
    write,
)

MASK_LOSSES = [
    "dice",
    "iou",
    "tversky:alpha=0.3,beta=0.7",
    "focal_tversky",
    "dice:aggregate=global",
    "dice:smooth=1",
    "dice:reduction=sum_over_rows,floor=1e-7,smooth=0",
    "tversky:reduction=sum,alpha=0.2",
    "dice:aggregate=global,pool_weights=none,reduction=sum_over_rows",
]


def masks(seed: int, images: int, pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = (rng.uniform(size=(images, pixels)) < rng.uniform(0.05, 0.6, (images, 1))) * 1.0
    pred = np.clip(target * 0.7 + rng.uniform(0, 0.5, (images, pixels)), 0, 1)
    weight = np.repeat(rng.uniform(0.5, 2.0, images), 1)
    return pred, target, weight


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    images=st.integers(1, 12),
    pixels=st.integers(1, 30),
    chunk_rows=st.integers(1, 200),
    weighted=st.booleans(),
)
def test_one_row_per_pixel_equals_one_row_per_image(seed, images, pixels, chunk_rows, weighted):
    pred, target, weight = masks(seed, images, pixels)
    by_image = losscli.evaluate(
        {"pred": pred, "target": target, "w": weight},
        MASK_LOSSES,
        "pred",
        "target",
        "w" if weighted else None,
    )
    order = np.random.default_rng(seed + 1).permutation(images * pixels)
    ids = np.char.add("scan-", np.repeat(np.arange(images), pixels).astype(str))
    pixels_table = {
        "pred": pred.reshape(-1)[order],
        "target": target.reshape(-1)[order],
        "w": np.repeat(weight, pixels)[order],
        "image": ids[order],
    }
    by_pixel = losscli.evaluate(
        pixels_table,
        MASK_LOSSES,
        "pred",
        "target",
        "w" if weighted else None,
        columns={"sample": "image"},
        chunk_rows=chunk_rows,
    )
    for image_row, pixel_row in zip(by_image.results, by_pixel.results, strict=True):
        assert close(pixel_row.value, image_row.value, 1e-12), image_row.label


def test_pixels_of_one_image_may_span_several_files(tmp_path, capsys):
    pred, target, _ = masks(5, 4, 50)
    rows = pa.table(
        {
            "image": np.repeat(np.arange(4), 50),
            "pred": pred.reshape(-1),
            "target": target.reshape(-1),
        }
    )
    # Three files cut across images, read as one table (natural order of the names).
    for index, (start, stop) in enumerate([(0, 70), (70, 130), (130, 200)]):
        pq.write_table(rows.slice(start, stop - start), tmp_path / f"part{index}.parquet")
    found = results_of(run(capsys, "eval", "-l", "dice", "--col", "sample=image", tmp_path))
    expected = evaluate_arrays("dice", {"pred": pred, "target": target})
    assert close(found["dice"]["value"], expected, 1e-12)


@pytest.mark.parametrize("order", ["runs", "shuffled"])
@pytest.mark.parametrize("by", [False, True])
def test_masks_as_stored_give_the_numbers_of_float64_masks(tmp_path, capsys, order, by):
    """Overlap losses read float32 pred, uint8 and int32 masks as stored (no widened copy in the
    reader) and take their products and sums exactly or in float64: the same numbers as float64
    columns of the same values, whatever the chunks, with weights and groups, for soft float32
    masks (whose float32 product would round) and hard uint8 predictions too; an mse beside them
    gets its float64 columns as ever."""
    pred, target, weight = masks(11, 9, 400)
    rng = np.random.default_rng(3)
    rows = np.arange(pred.size) if order == "runs" else rng.permutation(pred.size)
    image = np.repeat(np.arange(9, dtype=np.int32), 400)[rows]
    columns = {
        "image": image,
        "pred": pred.reshape(-1).astype(np.float32)[rows],
        "target": target.reshape(-1).astype(np.uint8)[rows],
        "mask32": target.reshape(-1).astype(np.int32)[rows],
        "soft32": rng.uniform(size=pred.size).astype(np.float32)[rows],
        "hard8": (pred.reshape(-1) > 0.5).astype(np.uint8)[rows],
        "w": np.repeat(weight, 400)[rows],
        "site": image % 2,
    }
    stored = tmp_path / "stored.parquet"
    pq.write_table(pa.table(columns), stored, row_group_size=777)
    wide = tmp_path / "wide.parquet"
    pq.write_table(
        pa.table({k: v.astype(np.float64) if k != "image" else v for k, v in columns.items()}),
        wide,
    )
    common = ["--col", "sample=image", "-w", "w", "--chunk-rows", "1000"]
    common += ["--by", "site"] if by else []
    pairs = [("pred", "target"), ("pred", "mask32"), ("pred", "soft32"), ("hard8", "target")]
    for pred_column, target_column in pairs:
        for losses, count in ((",".join(MASK_LOSSES), len(MASK_LOSSES)), ("dice,mse", 2)):
            args = ["eval", "-l", losses, "-p", pred_column, "-t", target_column, *common]
            found = run(capsys, *args, stored, "--format", "json")
            expected = run(capsys, *args, wide, "--format", "json")
            assert found.code == expected.code == 0, found
            mine, theirs = json.loads(found.out)["results"], json.loads(expected.out)["results"]
            assert len(mine) == len(theirs) == (3 if by else 1) * count
            for result, other in zip(mine, theirs, strict=True):
                assert close(result["value"], other["value"], 1e-13), (result, other)


def test_stored_columns_stay_as_stored_only_when_narrow_and_whole():
    """float32 and integers of 32 bits or fewer without a null keep their type (no copy); int64
    (past 2^53 a float64 rounds) and a column with a null are made float64 as ever."""
    from losscli.io.chunks import to_numbers

    assert to_numbers(pa.array([0.5, 1.0], pa.float32()), "p", "f", stored=True).dtype == np.float32
    assert to_numbers(pa.array([0, 1], pa.uint8()), "t", "f", stored=True).dtype == np.uint8
    assert to_numbers(pa.array([0, 1], pa.int64()), "t", "f", stored=True).dtype == np.float64
    with_null = to_numbers(pa.array([0.5, None], pa.float32()), "p", "f", stored=True)
    assert with_null.dtype == np.float64 and np.isnan(with_null[1])
    assert to_numbers(pa.array([0.5, 1.0], pa.float32()), "p", "f").dtype == np.float64


def test_chunks_of_numbers_read_as_stored_are_twice_as_long_unless_asked(tmp_path):
    """Chunks of 2^17 rows, or 2^18 (a whole Parquet batch) when every number is read as stored
    or rows are grouped (--by) on the thread that reads them; --chunk-rows as asked either way;
    the same value whatever the chunks."""
    rows = 600_000
    rng = np.random.default_rng(4)
    path = tmp_path / "masks.parquet"
    table = {
        "image": np.repeat(np.arange(rows // 1000, dtype=np.int32), 1000),
        "pred": rng.uniform(size=rows).astype(np.float32),
        "target": (rng.uniform(size=rows) < 0.3).astype(np.uint8),
        "site": np.arange(rows) % 7,
    }
    pq.write_table(pa.table(table), path)

    def chunks(losses, **asked):
        read = []
        report = losscli.evaluate(
            path, losses, columns={"sample": "image"}, on_progress=read.append, **asked
        )
        return np.diff([0, *read]).tolist(), report.overall[0].value

    stored, value = chunks("dice")
    assert stored == [1 << 18, 1 << 18, rows - (1 << 19)]
    assert chunks("dice,mse")[0][:2] == [1 << 17, 1 << 17]  # mse reads float64
    # Grouped, but read apart from their assembly (a sample key): 2^17 rows a stage.
    assert chunks("dice,mse", by="site")[0][:2] == [1 << 17, 1 << 17]
    small, same = chunks("dice", chunk_rows=100_000)
    assert max(small) == 100_000 and sum(small) == rows and close(same, value, 1e-13)


def test_per_sample_state_grows_with_samples_not_pixels():
    request = build_request("dice", {})
    state = Tally(lambda: request.definition.statistic(request.params), Options())
    rng = np.random.default_rng(0)
    for _ in range(20):  # 20 chunks of 10,000 pixels over the same 7 samples
        inputs = {
            "pred": rng.uniform(size=10_000),
            "target": (rng.uniform(size=10_000) < 0.3) * 1.0,
            "sample": rng.integers(0, 7, 10_000).astype(float),
        }
        chunk = SimpleNamespace(roles=inputs, weight=None, columns={r: (r,) for r in inputs})
        update(state, request, chunk)
    assert state.whole is not None and state.whole.inner == 7
    assert state.whole.view().sums.shape == (1, 1, 7, 5)


def test_the_whole_input_is_one_sample_without_a_sample_role():
    pred, target = np.array([1.0, 1, 0, 0.5]), np.array([1.0, 0, 0, 1])
    expected = 1 - (2 * 1.5 + 1e-6) / (2.5 + 2 + 1e-6)
    assert close(evaluate_arrays("dice", {"pred": pred, "target": target}), expected, 1e-15)


def test_aggregate_row_scores_each_row_alone_with_the_floor_in_the_denominator():
    data = {"pred": [1.0, 0.0, 0.5], "target": [1.0, 0.0, 0.0], "w": [1.0, 3.0, 2.0]}
    spec = "dice:aggregate=row,smooth=0,floor=1e-7,reduction=sum_over_rows"
    value = losscli.evaluate(data, spec, weight="w").overall[0].value
    # row 1: 1 - 2/2; row 2: nothing in either, 1 - 0 / 1e-7; row 3: 1 - 0 / 0.5
    assert close(value, (1.0 * (1 - 2 / (2 + 1e-7)) + 3.0 * 1 + 2.0 * 1) / 3, 1e-15)


def test_aggregate_row_with_a_sample_column_is_refused():
    data = {"pred": [1.0, 0.0], "target": [1.0, 0.0], "image": [1.0, 1.0]}
    with pytest.raises(UsageError, match="aggregate=row scores each row alone"):
        losscli.evaluate(data, "dice:aggregate=row", columns={"sample": "image"})


def test_pool_weights_none_pools_elements_alike_and_scales_the_one_value():
    data = {"pred": [[1.0, 0.0], [0.5, 0.5]], "target": [[1.0, 1.0], [0.0, 1.0]], "w": [0.0, 4.0]}
    pooled = 1 - 2 * 1.5 / (2.0 + 3.0)
    spec = "dice:aggregate=global,smooth=0,pool_weights=none"
    assert close(losscli.evaluate(data, spec, weight="w").overall[0].value, pooled, 1e-15)
    over_rows = losscli.evaluate(data, spec + ",reduction=sum_over_rows", weight="w")
    assert close(over_rows.overall[0].value, pooled * 4.0 / 2, 1e-15)
    by_elements = losscli.evaluate(data, "dice:aggregate=global,smooth=0", weight="w")
    assert close(by_elements.overall[0].value, 1 - 2 * 0.5 / (1.0 + 1.0), 1e-15)


def test_mask_values_outside_zero_one_are_an_error():
    with pytest.raises(DomainError, match="sigmoid"):
        evaluate_arrays("dice", {"pred": [[0.2, 1.4]], "target": [[0, 1]]})


# -- boxes -------------------------------------------------------------------------------------

BOXES_XYXY = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 4.0, 3.0], [5.0, 5.0, 6.0, 8.0]])
TRUTH_XYXY = np.array([[1.0, 1.0, 3.0, 3.0], [1.0, 1.0, 4.0, 3.0], [0.0, 0.0, 1.0, 1.0]])


def as_format(boxes: np.ndarray, format: str) -> np.ndarray:
    x1, y1, x2, y2 = boxes.T
    if format == "xywh":
        return np.column_stack([x1, y1, x2 - x1, y2 - y1])
    if format == "cxcywh":
        return np.column_stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
    return boxes


@pytest.mark.parametrize("loss", ["box_iou", "giou", "diou", "ciou"])
@pytest.mark.parametrize("format", ["xywh", "cxcywh"])
def test_box_formats_give_the_same_loss(loss, format):
    expected = evaluate_arrays(loss, {"pred": BOXES_XYXY, "target": TRUTH_XYXY})
    given_boxes = {"pred": as_format(BOXES_XYXY, format), "target": as_format(TRUTH_XYXY, format)}
    assert close(evaluate_arrays(loss, given_boxes, {"format": format}), expected, 1e-12)


def test_boxes_as_four_columns_or_a_list_column(tmp_path, capsys):
    columns = {f"p_{name}": BOXES_XYXY[:, i] for i, name in enumerate(["x1", "y1", "x2", "y2"])}
    columns |= {f"t_{name}": TRUTH_XYXY[:, i] for i, name in enumerate(["x1", "y1", "x2", "y2"])}
    pa_csv.write_csv(pa.table(columns), tmp_path / "boxes.csv")
    # t_* expands in natural order (t_x1, t_x2, t_y1, t_y2): not corners, and the error says so.
    shuffled = run(capsys, "eval", "-l", "giou", "-p", "p_x1,p_y1,p_x2,p_y2", "-t", "t_*",
                   tmp_path / "boxes.csv")  # fmt: skip
    assert_user_error(shuffled, "degenerate or inverted box")
    listed = results_of(
        run(capsys, "eval", "-l", "giou", "-p", "p_x1,p_y1,p_x2,p_y2", "-t", "t_x1,t_y1,t_x2,t_y2",
            tmp_path / "boxes.csv")
    )  # fmt: skip
    expected = evaluate_arrays("giou", {"pred": BOXES_XYXY, "target": TRUTH_XYXY})
    assert close(listed["giou"]["value"], expected, 1e-12)
    list_column = pa.FixedSizeListArray.from_arrays(pa.array(BOXES_XYXY.reshape(-1)), 4)
    truth_column = pa.FixedSizeListArray.from_arrays(pa.array(TRUTH_XYXY.reshape(-1)), 4)
    pq.write_table(pa.table({"box": list_column, "gt": truth_column}), tmp_path / "boxes.parquet")
    found = results_of(run(capsys, "eval", "-l", "giou", "-p", "box", tmp_path / "boxes.parquet"))
    assert close(found["giou"]["value"], expected, 1e-12)


def test_an_inverted_box_is_an_error_naming_its_row(tmp_path, capsys):
    data = tmp_path / "boxes.csv"
    data.write_text("x1,y1,x2,y2,a,b,c,d\n0,0,2,2,0,0,2,2\n3,0,1,2,0,0,2,2\n")
    outcome = run(capsys, "eval", "-l", "ciou", "-p", "x1,y1,x2,y2", "-t", "a,b,c,d", data)
    assert_user_error(outcome, "column 'x1'", "degenerate or inverted box (3, 0, 1, 2)", "row 2")


def test_boxes_need_four_numbers():
    with pytest.raises(InputError, match="4 numbers per row"):
        evaluate_arrays("giou", {"pred": [[0, 0, 1]], "target": [[0, 0, 1]]})


# -- embeddings --------------------------------------------------------------------------------


def test_embedding_roles_of_different_widths_are_an_error():
    rng = np.random.default_rng(0)
    inputs = {"anchor": rng.normal(size=(4, 8)), "positive": rng.normal(size=(4, 8))}
    inputs["negative"] = rng.normal(size=(4, 6))
    with pytest.raises(InputError, match="differ in width"):
        evaluate_arrays("triplet", inputs)


def test_contrastive_takes_a_distance_or_two_embeddings_and_either_label_convention():
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(10, 5)), rng.normal(size=(10, 5))
    label = rng.integers(0, 2, 10)
    distance = np.linalg.norm(x1 - x2, axis=1)
    from_pairs = evaluate_arrays("contrastive", {"x1": x1, "x2": x2, "target": label})
    from_distance = evaluate_arrays("contrastive", {"pred": distance, "target": label})
    assert close(from_pairs, from_distance, 1e-12)
    flipped = evaluate_arrays(
        "contrastive", {"pred": distance, "target": 1 - label}, {"similar_label": 1}
    )
    assert close(flipped, from_distance, 1e-15)
    with pytest.raises(InputError, match="distance column"):
        losscli.evaluate({"y": label}, "contrastive", target="y")


def test_center_from_the_data_and_from_a_centers_file(tmp_path):
    rng = np.random.default_rng(2)
    features, classes = rng.normal(size=(60, 3)) + 100.0, rng.integers(0, 4, 60)
    means = np.array([features[classes == k].mean(axis=0) for k in range(4)])
    expected = 0.5 * ((features - means[classes]) ** 2).sum(axis=1).mean()
    assert close(evaluate_arrays("center", {"pred": features, "target": classes}), expected, 1e-10)
    centers = tmp_path / "centers.csv"
    centers.write_text(
        "a,b,c\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in means) + "\n"
    )
    from_file = evaluate_arrays(
        "center", {"pred": features, "target": classes}, {"centers": str(centers)}
    )
    assert close(from_file, expected, 1e-10)
    with pytest.raises(InputError, match="centers file has 4 rows"):
        evaluate_arrays(
            "center", {"pred": features[:2], "target": [0, 7]}, {"centers": str(centers)}
        )


def test_center_file_that_cannot_be_read_is_an_input_error(tmp_path, capsys):
    data = tmp_path / "f.csv"
    data.write_text("f1,f2,label\n1,2,0\n")
    outcome = run(
        capsys, "eval", "-l", f"center:centers={tmp_path / 'nope.csv'}", "-p", "f1,f2", data
    )
    assert_user_error(outcome, "nope.csv")


# -- face margins ------------------------------------------------------------------------------


def test_cosines_outside_minus_one_one_are_an_error():
    with pytest.raises(DomainError, match=r"cosine similarities in \[-1, 1\]"):
        evaluate_arrays("arcface", {"pred": [[0.5, 1.5]], "target": [0]})


def test_face_margins_reduce_to_normface_without_a_margin():
    rng = np.random.default_rng(3)
    cosines, labels = np.tanh(rng.normal(size=(20, 6))), rng.integers(0, 6, 20)
    inputs = {"pred": cosines, "target": labels}
    plain = evaluate_arrays("normface", inputs, {"s": 10})
    for loss in ("cosface", "arcface"):
        assert close(evaluate_arrays(loss, inputs, {"s": 10, "m": 0}), plain, 1e-12), loss
    assert close(evaluate_arrays("sphereface", inputs, {"s": 10, "m": 1}), plain, 1e-12)
    assert math.isfinite(evaluate_arrays("arcface", inputs))


def test_per_row_file_keeps_an_empty_column_for_per_sample_losses(tmp_path, capsys):
    # Per-pixel dice has no value per row (it needs the whole sample): an empty column, not none.
    out = tmp_path / "rows.csv"
    args = ["-l", "dice,mse", "-p", "prob", "-t", "lesion", "--col", "sample=scan"]
    outcome = run(capsys, "eval", *args, "--per-row", out, SAMPLE_DATA / "lesion_masks.parquet")
    assert outcome.code == 0, outcome
    table = pa_csv.read_csv(out)
    assert table.column_names == ["dice", "mse"] and table.num_rows == 20480
    assert table.column("dice").null_count == 20480 and table.column("mse").null_count == 0


def test_an_undefined_dice_is_nan_with_a_note_and_no_numpy_warning(capsys, tmp_path):
    # smooth=0 on masks with nothing in them is 0/0: undefined, as in PyTorch.
    (tmp_path / "empty.csv").write_text("pred,target\n0,0\n0,0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy warning would end the run as an internal error
        outcome = run(capsys, "eval", "-l", "dice:smooth=0", tmp_path / "empty.csv", "-f", "csv")
    assert outcome.code == 0
    assert outcome.out.splitlines()[1].split(",")[-4] == ""
    assert "undefined" in outcome.err


def test_a_row_without_a_sample_kept_by_propagate_is_refused_naming_it(capsys, tmp_path):
    path = write(tmp_path / "masks.csv", "p,t,s\n0.5,1,a\n0.2,0,\n0.9,1,b\n")
    outcome = run(
        capsys,
        "eval",
        "-l",
        "dice",
        "-p",
        "p",
        "-t",
        "t",
        "--col",
        "sample=s",
        "--nan",
        "propagate",
        path,
    )
    assert_user_error(outcome, "column 's'", "row 2", "--nan drop")
    with pytest.raises(InputError, match="nan drop"):
        losscli.evaluate(
            str(path), "dice", pred="p", target="t", columns={"sample": "s"}, nan="propagate"
        )
