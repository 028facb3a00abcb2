"""Regenerates the sample files (deterministic): python3 sample_data/make_samples.py"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def house_prices(rng: np.random.Generator, rows: int = 200) -> pa.Table:
    """Sale prices in thousands with a model's predictions, its variance and a recency weight."""
    size = rng.uniform(50, 250, rows)
    target = np.round(40 + 2.1 * size + rng.normal(0, 25, rows), 1)
    prediction = np.round(42 + 2.05 * size + rng.normal(0, 18, rows), 1)
    variance = np.round(rng.uniform(200, 900, rows), 1)
    weight = np.round(rng.uniform(0.5, 2.0, rows), 2)
    return pa.table(
        {
            "house_id": [f"H{i:04d}" for i in range(1, rows + 1)],
            "prediction": prediction,
            "target": target,
            "variance": variance,
            "weight": weight,
        }
    )


def house_prices_candidate(houses: pa.Table, rng: np.random.Generator) -> pa.Table:
    """A second model's predictions of the same houses: a little biased and noisier."""
    baseline = houses.column("prediction").to_numpy()
    prediction = np.round(baseline * 1.03 + rng.normal(0, 15, len(baseline)), 1)
    return pa.table(
        {
            "house_id": houses.column("house_id"),
            "prediction": prediction,
            "target": houses.column("target"),
        }
    )


def demand_forecast(rng: np.random.Generator, rows: int = 120) -> pa.Table:
    """Daily demand of a product, forecast 1, 2 and 3 days ahead: vector rows."""
    level = rng.uniform(20, 80, rows)
    columns = {"store": [f"S{i % 6 + 1}" for i in range(rows)]}
    for horizon in (1, 2, 3):
        actual = np.maximum(0, np.round(level + rng.normal(0, 4, rows)))
        columns[f"forecast_h{horizon}"] = np.round(level + rng.normal(0, 2 + horizon, rows), 2)
        columns[f"actual_h{horizon}"] = actual
    return pa.table(columns)


def image_classes(rng: np.random.Generator, rows: int = 300, classes: int = 10) -> pa.Table:
    """A 10-class image classifier's logits (logit_0..logit_9) with the true class: label."""
    label = rng.integers(0, classes, rows)
    logits = rng.normal(0, 1.5, (rows, classes))
    logits[np.arange(rows), label] += rng.normal(2.5, 1.5, rows)  # right more often than not
    columns = {"image_id": [f"img{i:04d}" for i in range(1, rows + 1)]}
    columns.update({f"logit_{k}": np.round(logits[:, k], 4) for k in range(classes)})
    columns["label"] = label
    return pa.table(columns)


def as_list_column(table: pa.Table, classes: int = 10) -> pa.Table:
    """The same scores as one list column ``logits``, as a Parquet writer of tensors would."""
    scores = np.column_stack([table.column(f"logit_{k}").to_numpy() for k in range(classes)])
    logits = pa.FixedSizeListArray.from_arrays(pa.array(scores.reshape(-1)), classes)
    return pa.table({"image_id": table["image_id"], "logits": logits, "label": table["label"]})


def churn(rng: np.random.Generator, rows: int = 400) -> pa.Table:
    """A churn model's predicted probability (prob) and whether the customer left (churned)."""
    risk = rng.normal(0, 1.2, rows)
    churned = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(risk - 1.0)))).astype(np.int64)
    prob = 1 / (1 + np.exp(-(0.9 * risk - 1.0 + rng.normal(0, 0.4, rows))))
    return pa.table(
        {"customer": np.arange(1, rows + 1), "prob": np.round(prob, 4), "churned": churned}
    )


def lesion_masks(rng: np.random.Generator, images: int = 20, side: int = 32) -> pa.Table:
    """A segmentation model's soft masks, one row per pixel: scan, pixel, prob, lesion."""
    yy, xx = np.mgrid[0:side, 0:side]
    rows = []
    for scan in range(images):
        cy, cx, radius = *rng.uniform(8, side - 8, 2), rng.uniform(3, 8)
        lesion = ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2).astype(np.int64)
        score = 3.0 * (lesion - 0.5) + rng.normal(0, 1.2, lesion.shape)
        rows.append((np.full(side * side, f"scan{scan:02d}"), 1 / (1 + np.exp(-score)), lesion))
    order = rng.permutation(images * side * side)  # pixels arrive in any order
    return pa.table(
        {
            "scan": np.concatenate([r[0] for r in rows])[order],
            "prob": np.round(np.concatenate([r[1].reshape(-1) for r in rows]), 4)[order],
            "lesion": np.concatenate([r[2].reshape(-1) for r in rows])[order],
        }
    )


def detections(rng: np.random.Generator, rows: int = 60) -> pa.Table:
    """Predicted and true boxes (x1, y1, x2, y2 in pixels) of a detector."""
    x1, y1 = rng.uniform(0, 400, rows), rng.uniform(0, 300, rows)
    w, h = rng.uniform(20, 120, rows), rng.uniform(20, 120, rows)
    jitter = rng.normal(0, 6, (rows, 4))
    truth = np.column_stack([x1, y1, x1 + w, y1 + h])
    guess = truth + jitter
    guess[:, 2:] = np.maximum(guess[:, 2:], guess[:, :2] + 1)
    names = ["x1", "y1", "x2", "y2"]
    columns = {f"pred_{n}": np.round(guess[:, i], 1) for i, n in enumerate(names)}
    columns.update({f"true_{n}": np.round(truth[:, i], 1) for i, n in enumerate(names)})
    return pa.table(columns)


def kaggle_pair(houses: pa.Table, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    """A submission and its solution, as a competition gives them: both call the value column
    SalePrice, and the solution's rows come in another order (joined with --on Id)."""
    ids = pa.array([int(h[1:]) for h in houses.column("house_id").to_pylist()])
    price = houses.column("prediction")
    submission = pa.table({"Id": ids, "SalePrice": price})
    order = rng.permutation(houses.num_rows)
    solution = pa.table({"Id": ids, "SalePrice": houses.column("target")}).take(order)
    return submission, solution


def main() -> None:
    rng = np.random.default_rng(20261121)
    houses = house_prices(rng)
    pa_csv.write_csv(houses, HERE / "house_prices.csv")
    pq.write_table(houses, HERE / "house_prices.parquet")
    pa_csv.write_csv(demand_forecast(rng), HERE / "demand_forecast.csv")
    images = image_classes(rng)
    pa_csv.write_csv(images, HERE / "image_classes.csv")
    pq.write_table(as_list_column(images), HERE / "image_classes.parquet")
    pa_csv.write_csv(churn(rng), HERE / "churn.csv")
    pq.write_table(lesion_masks(rng), HERE / "lesion_masks.parquet")
    pa_csv.write_csv(detections(rng), HERE / "detections.csv")
    # Its own generator, so the files above stay as they were.
    candidate = house_prices_candidate(houses, np.random.default_rng(20261122))
    pa_csv.write_csv(candidate, HERE / "house_prices_candidate.csv")
    submission, solution = kaggle_pair(houses, np.random.default_rng(20261204))
    pa_csv.write_csv(submission, HERE / "submission.csv")
    pa_csv.write_csv(solution, HERE / "solution.csv")


if __name__ == "__main__":
    main()
