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


def demand_forecast(rng: np.random.Generator, rows: int = 120) -> pa.Table:
    """Daily demand of a product, forecast 1, 2 and 3 days ahead: vector rows."""
    level = rng.uniform(20, 80, rows)
    columns = {"store": [f"S{i % 6 + 1}" for i in range(rows)]}
    for horizon in (1, 2, 3):
        actual = np.maximum(0, np.round(level + rng.normal(0, 4, rows)))
        columns[f"forecast_h{horizon}"] = np.round(level + rng.normal(0, 2 + horizon, rows), 2)
        columns[f"actual_h{horizon}"] = actual
    return pa.table(columns)


def main() -> None:
    rng = np.random.default_rng(20261121)
    houses = house_prices(rng)
    pa_csv.write_csv(houses, HERE / "house_prices.csv")
    pq.write_table(houses, HERE / "house_prices.parquet")
    pa_csv.write_csv(demand_forecast(rng), HERE / "demand_forecast.csv")


if __name__ == "__main__":
    main()
