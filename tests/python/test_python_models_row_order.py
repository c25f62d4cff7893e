"""The dbt Python models give the same tables whatever order their input rows arrive in.

A Spark table has no row order (``ref(...).df()`` returns the rows as the partitions deliver
them) and DuckDB's follows its parallel joins, so every fit must sort what it reads before
anything positional (k-means++ seeding, folds, samples, sums). Each model file under ``models/``
is run here as the Spark runner runs it (:func:`customer_segments.spark_runner.
run_python_model`), on synthetic inputs, once as given and once with every input's rows
shuffled, including the outputs of the upstream Python models; the tables must be equal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shapes
from customer_segments.spark_runner import PythonModelContext, run_python_model

PROJECT_DIR = Path(__file__).resolve().parents[2]
MODEL_FILES = sorted((PROJECT_DIR / "models").rglob("*.py"))


class _NotYet(LookupError):
    """A ref to a model that has not run yet in this chain."""


def _snapshots() -> pd.DataFrame:
    """``int_customer_purchase_snapshots``: the three roles of a steady synthetic retailer."""
    invoices = shapes.invoices(shapes.shape("steady", customers=700, seed=11))
    frames = []
    for role, snapshot in zip(
        ("as_of_date", "backtest_cutoff", "training_cutoff"),
        shapes.snapshots(invoices).values(),
        strict=True,
    ):
        frame = snapshot.assign(snapshot_role=role, has_purchase=snapshot["frequency"] >= 1)
        frame["rfm_segment_key"] = np.where(frame["recency_score"] >= 3, "recent", "lapsed")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _inputs() -> dict[str, pd.DataFrame]:
    """The SQL models and seeds the Python models read, with the project's default settings."""
    return {
        "int_customer_purchase_snapshots": _snapshots(),
        "cluster_personas": pd.read_csv(PROJECT_DIR / "seeds" / "cluster_personas.csv"),
        "int_segmentation_settings": pd.DataFrame(
            {
                "cluster_k": ["auto"],
                "cluster_k_min": [3],
                "cluster_k_max": [6],
                "cluster_min_customers": [50],
                "cluster_random_state": [42],
                "cluster_n_init": [4],
                "new_customer_max_tenure_days": [90],
                "late_purchase_gap_multiple": [2.0],
                "cluster_min_share_meeting_conditions": [0.5],
                "prediction_horizon_days": [90],
            }
        ),
        "int_cluster_features": pd.DataFrame(
            {
                "feature_position": [0, 1, 2, 3],
                "feature": ["recency", "frequency", "monetary", "tenure"],
                "source_column": ["recency_days", "frequency", "monetary", "tenure_days"],
                "transform": ["sqrt", "log1p", "log1p", "identity"],
                "floor_negative": [False, False, True, False],
            }
        ),
        "int_backtest_status": pd.DataFrame({"is_computed": [True]}),
    }


def _run_chain(shuffle_seed: int | None) -> dict[str, pd.DataFrame]:
    """Run every model file in dependency order; ``shuffle_seed`` shuffles every read."""
    tables = _inputs()
    rng = np.random.default_rng(shuffle_seed)

    def read(name: str) -> pd.DataFrame:
        if name not in tables:
            raise _NotYet(name)
        frame = tables[name]
        if shuffle_seed is not None and len(frame) > 1:
            frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        return frame.copy()

    pending = {path.stem: path for path in MODEL_FILES}
    outputs = {}
    while pending:
        progressed = False
        for name, path in sorted(pending.items()):
            try:
                frame = run_python_model(path.read_text(), str(path), PythonModelContext(read))
            except _NotYet:
                continue
            tables[name] = outputs[name] = frame
            del pending[name]
            progressed = True
        assert progressed, f"these models read tables nobody provides: {sorted(pending)}"
    return outputs


def _sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def in_order() -> dict[str, pd.DataFrame]:
    return _run_chain(None)


def test_every_python_model_runs_and_returns_rows(in_order):
    assert set(in_order) == {path.stem for path in MODEL_FILES}
    assert len(in_order) >= 7
    for name, frame in in_order.items():
        assert len(frame) > 0, name
    # The backtest really ran, or the shuffle below would compare empty tables.
    assert in_order["int_purchase_probabilities"]["validation"].nunique() == 3


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_inputs_give_the_same_tables(in_order, seed):
    shuffled = _run_chain(seed)
    for name, frame in in_order.items():
        pd.testing.assert_frame_equal(
            _sorted_rows(shuffled[name]), _sorted_rows(frame), check_exact=True, obj=name
        )
