"""Command line: write one self-contained HTML report of the segmentation from the warehouse.

Example, from the project folder after ``make build``::

    python -m customer_segments.report --duckdb segments.duckdb --out reports/segments.html

The DuckDB file is opened read-only. The report reads the tables of :data:`REQUIRED_COLUMNS`:
from ``--schema`` the segmentation (``cluster_k_evaluation``, ``cluster_centroids``,
``dim_customer_segments``, ``fct_segment_summary``), the backtest (``fct_segment_backtest``,
``fct_backtest_summary``, ``fct_backtest_calibration``, ``fct_backtest_gains``,
``fct_purchase_model_comparison``) and the history (``fct_segment_transitions``,
``fct_segment_drift``); from ``--reference-schema`` the ``rfm_segment_grid``, ``rfm_segments``
and ``cluster_personas`` seeds. Every figure is a PNG embedded as a base64 ``data:`` URI and the
CSS is inline, so the file opens offline and can be mailed as it is. The same warehouse always
gives the same bytes: no timestamps, PNG metadata stripped, samples drawn with a fixed seed.

Each figure is built by a pure function from DataFrames to a matplotlib ``Figure``; figures are
made with ``matplotlib.figure.Figure`` directly (not pyplot), so no backend or global state is
touched and nothing needs closing. A persona has one colour in every figure
(:func:`persona_colors`, in the order of :func:`persona_order`).

The page is the Jinja2 template ``templates/report.html.j2`` (package data), rendered with
autoescaping on: Python hands it plain values only, never HTML. The page is a header (title and
facts) and a list of sections in page order, each of one of three kinds:

- :class:`FigureSection`: a PNG (see :func:`figure_to_png`) with a title and a caption;
- :class:`TableSection`: columns and rows of text, usually made from a DataFrame by
  :func:`table_section` with one :class:`Column` (field, header, number format) per column. The
  persona table is one (:func:`persona_table`);
- :class:`NoteSection`: paragraphs of text, to introduce a part or to say why it is missing.

:func:`build_sections` lists them: the segmentation's figures (:func:`figure_sections`) and the
persona table, then :func:`backtest_sections` and :func:`history_sections`. Those two show what a
part of the report becomes when the build lacks its data: without a backtest (every backtest mart
one row with ``is_computed`` false) the backtest part is one note quoting
``not_computed_reason``; with a history of one snapshot (``history_months = 0``) the history part
is one note saying so. :data:`FIGURE_IDS` lists every figure a complete build shows.

Adding a section is a function that returns sections, called there; the template needs no
change. For example, a table of the classic segments' backtest rows would be::

    RFM_BACKTEST_COLUMNS = (
        Column("segment_key", "Classic segment", css_class="key"),
        Column("customers", "Customers", ",.0f"),
        Column("repeat_rate", "Repeat rate", ".1%"),
        Column("lift", "Lift over the base rate", ".2f"),
    )

    def rfm_backtest_sections(tables: ReportTables) -> list[Section]:
        rows = tables.backtest_segments
        rows = rows.loc[rows["grouping"] == "rfm_segment"].sort_values("lift", ascending=False)
        return [table_section("backtest-rfm-segments", "Backtest: repeat purchase by classic "
                              "segment", rows, RFM_BACKTEST_COLUMNS)]

plus, for a table it reads that is not read yet, its columns in :data:`REQUIRED_COLUMNS`, its row
order in ``_ORDER_BY`` (and ``_MAY_BE_EMPTY`` if a complete build can leave it empty), a field of
:class:`ReportTables` filled in :func:`load_tables`, and ``sections += rfm_backtest_sections(tables)``
in :func:`build_sections`.
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import duckdb
import jinja2
import matplotlib
import matplotlib.axes
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from customer_segments.backtest import SAMPLING_ERROR_Z

__all__ = [
    "BACKTEST_PERSONA_COLUMNS",
    "FIGURE_IDS",
    "NOT_YET_CUSTOMER",
    "PERSONA_COLUMNS",
    "PURCHASE_MODEL_COLUMNS",
    "RANKING_LABELS",
    "REQUIRED_COLUMNS",
    "SECTION_KINDS",
    "VALIDATION_LABELS",
    "Column",
    "FigureSection",
    "NoteSection",
    "ReportError",
    "ReportTables",
    "Section",
    "TableSection",
    "backtest_persona_rows",
    "backtest_sections",
    "backtest_status",
    "build_parser",
    "build_report",
    "build_sections",
    "calibration_figure",
    "figure_sections",
    "figure_to_png",
    "gains_figure",
    "history_sections",
    "k_selection_figure",
    "last_transitions",
    "load_tables",
    "main",
    "name_contradiction_note",
    "persona_colors",
    "persona_counts_over_time",
    "persona_label",
    "persona_order",
    "persona_sizes_figure",
    "persona_table",
    "psi_figure",
    "recency_monetary_figure",
    "render_html",
    "report_facts",
    "report_persona_names",
    "rfm_grid_counts",
    "rfm_grid_figure",
    "sample_customers",
    "segment_sizes_figure",
    "snake_plot_figure",
    "snake_plot_values",
    "snapshot_dates",
    "table_section",
    "transition_matrix",
    "transitions_figure",
]

PROG = "python -m customer_segments.report"
BUILD_HINT = "run `make build` (or `dbt build`) first"

FIGURE_IDS: tuple[str, ...] = (
    "fig-k-selection",
    "fig-segment-sizes",
    "fig-snake-plot",
    "fig-recency-monetary",
    "fig-rfm-grid",
    "fig-backtest-gains",
    "fig-backtest-calibration",
    "fig-history-persona-sizes",
    "fig-history-transitions",
    "fig-history-psi",
)

# (schema option, table) -> columns the report uses; other columns are ignored.
REQUIRED_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("schema", "cluster_k_evaluation"): ("k", "inertia", "silhouette", "is_chosen", "reason"),
    ("schema", "cluster_centroids"): ("cluster_id", "persona_key", "customer_count"),
    ("schema", "dim_customer_segments"): (
        "customer_id",
        "persona_key",
        "recency_days",
        "frequency",
        "monetary",
        "recency_score",
        "frequency_score",
        "as_of_date",
    ),
    ("schema", "fct_segment_summary"): (
        "persona_key",
        "persona_name",
        "persona_description",
        "persona_recommended_action",
        "customer_count",
        "customer_share",
        "revenue",
        "revenue_share",
        "median_recency_days",
        "median_frequency",
        "median_monetary",
        "top_rfm_segments",
    ),
    ("reference_schema", "rfm_segment_grid"): (
        "recency_score",
        "frequency_score",
        "rfm_segment_key",
    ),
    ("reference_schema", "rfm_segments"): ("rfm_segment_key", "rfm_segment"),
    ("reference_schema", "cluster_personas"): ("persona_key", "display_name"),
    # The backtest: without one, each holds one row with is_computed false and the reason.
    ("schema", "fct_segment_backtest"): (
        "grouping",
        "segment_key",
        "customers",
        "repeat_customers",
        "repeat_rate",
        "next_period_revenue",
        "revenue_per_customer",
        "base_rate",
        "lift",
        "expected_repeat",
        "is_name_contradicted",
        "horizon_days",
        "is_computed",
        "not_computed_reason",
        "cutoff_date",
    ),
    ("schema", "fct_backtest_summary"): (
        "ranking",
        "method",
        "customers",
        "repeat_customers",
        "base_rate",
        "auc",
        "horizon_days",
        "is_computed",
        "not_computed_reason",
        "cutoff_date",
    ),
    ("schema", "fct_backtest_calibration"): (
        "validation",
        "decile",
        "customers",
        "mean_predicted",
        "observed_rate",
        "gap_standard_error",
        "is_gap_within_sampling_error",
        "is_computed",
        "not_computed_reason",
    ),
    ("schema", "fct_backtest_gains"): (
        "ranking",
        "step",
        "share_contacted",
        "share_of_buyers_found",
        "is_computed",
        "not_computed_reason",
    ),
    ("schema", "fct_purchase_model_comparison"): (
        "method",
        "reason",
        "auc",
        "brier_score",
        "log_loss",
        "max_abs_decile_gap",
        "is_chosen",
    ),
    # The history: one snapshot only (history_months = 0) leaves the transitions empty.
    ("schema", "fct_segment_transitions"): (
        "grouping",
        "from_persona",
        "to_persona",
        "customers",
        "revenue_at_stake",
        "is_move",
        "from_snapshot_date",
        "to_snapshot_date",
    ),
    ("schema", "fct_segment_drift"): (
        "drift_kind",
        "drift_key",
        "drift_value",
        "psi_threshold",
        "refit_recommended",
        "snapshot_date",
    ),
}

# Tables that a complete build may leave empty: no backtest, or a history of one snapshot.
_MAY_BE_EMPTY = frozenset(
    {"fct_purchase_model_comparison", "fct_segment_transitions", "fct_segment_drift"}
)

# A stable row order per table, so that the figures do not depend on how DuckDB scans.
_ORDER_BY = {
    "cluster_k_evaluation": "k",
    "cluster_centroids": "cluster_id",
    "dim_customer_segments": "customer_id",
    "fct_segment_summary": "persona_key",
    "rfm_segment_grid": "recency_score, frequency_score",
    "rfm_segments": "rfm_segment_key",
    "cluster_personas": "persona_key",
    "fct_segment_backtest": "grouping, segment_key",
    "fct_backtest_summary": "ranking",
    "fct_backtest_calibration": "validation, decile",
    "fct_backtest_gains": "ranking, step",
    "fct_purchase_model_comparison": "method",
    "fct_segment_transitions": "grouping, from_snapshot_date, from_persona, to_persona",
    "fct_segment_drift": "snapshot_date, drift_kind, drift_key",
}

SNAKE_FEATURES: tuple[tuple[str, str], ...] = (
    ("recency_days", "Recency\n(log days since last)"),
    ("frequency", "Frequency\n(log orders)"),
    ("monetary", "Monetary\n(log net revenue)"),
)

_DPI = 110
_PNG_METADATA = {"Software": None}  # matplotlib's version string would be the only varying chunk

TEMPLATE = "report.html.j2"
SECTION_KINDS: tuple[str, ...] = ("figure", "table", "note")


class ReportError(ValueError):
    """The warehouse cannot be reported on: a missing file, table or column, or bad content."""


@dataclass(frozen=True)
class ReportTables:
    """The warehouse tables the report reads, one DataFrame each (see :data:`REQUIRED_COLUMNS`)."""

    k_evaluation: pd.DataFrame
    centroids: pd.DataFrame
    customers: pd.DataFrame
    summary: pd.DataFrame
    rfm_grid: pd.DataFrame
    rfm_segments: pd.DataFrame
    persona_catalog: pd.DataFrame
    backtest_segments: pd.DataFrame
    backtest_summary: pd.DataFrame
    backtest_calibration: pd.DataFrame
    backtest_gains: pd.DataFrame
    purchase_models: pd.DataFrame
    transitions: pd.DataFrame
    drift: pd.DataFrame


@dataclass(frozen=True)
class FigureSection:
    """A figure of the report: its HTML id, title, caption (plain text) and PNG bytes."""

    section_id: str
    title: str
    caption: str
    png: bytes
    kind: ClassVar[str] = "figure"

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI, for an ``<img src>`` that fetches nothing."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Column:
    """One column of a :class:`TableSection`.

    Parameters
    ----------
    field : str
        Column of the DataFrame it shows (see :func:`table_section`).
    label : str
        Header text.
    spec : str, optional
        Number format (:func:`format` spec, or ``"n"``: no decimal for whole numbers, one
        otherwise); ``None`` shows the value as text.
    css_class : str, optional
        Class of the cells; default ``"num"`` (right-aligned) for numbers, none for text.
    """

    field: str
    label: str
    spec: str | None = None
    css_class: str | None = None

    @property
    def cell_class(self) -> str:
        """The cells' class: ``css_class`` if given, else ``"num"`` for numbers, else ``""``."""
        if self.css_class is not None:
            return self.css_class
        return "num" if self.spec is not None else ""

    def format(self, value: object) -> str:
        """``value`` as the cell's text; a missing value is an empty cell."""
        if self.spec is not None:
            return _format_number(value, self.spec)
        if value is None or (np.ndim(value) == 0 and pd.isna(value)):
            return ""
        return str(value)


@dataclass(frozen=True)
class TableSection:
    """A table of the report: its HTML id, title, columns and rows of plain text.

    ``rows`` hold one text per column, in column order; the template escapes them. Build one
    from a DataFrame with :func:`table_section`.
    """

    section_id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    table_id: str = ""
    caption: str = ""
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        widths = {len(row) for row in self.rows}
        if widths - {len(self.columns)}:
            raise ValueError(
                f"table {self.section_id!r}: every row needs {len(self.columns)} cells, "
                f"found rows of {sorted(widths)}"
            )


@dataclass(frozen=True)
class NoteSection:
    """A section of text only: its HTML id, title and paragraphs (plain text, escaped by the
    template). It introduces a part of the report or says why that part is missing (a backtest
    not computed, a history of one snapshot)."""

    section_id: str
    title: str
    paragraphs: tuple[str, ...]
    kind: ClassVar[str] = "note"


Section = FigureSection | TableSection | NoteSection


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _identifier(part: str) -> str:
    return '"' + part.replace('"', '""') + '"'


def load_tables(
    connection: duckdb.DuckDBPyConnection,
    schema: str = "main",
    reference_schema: str = "main_reference",
) -> ReportTables:
    """Read the report's tables from an open DuckDB connection.

    Parameters
    ----------
    connection : duckdb.DuckDBPyConnection
        Connection to the warehouse (read-only is enough).
    schema : str
        Schema of the marts and clustering tables.
    reference_schema : str
        Schema of the ``rfm_segment_grid``, ``rfm_segments`` and ``cluster_personas`` seeds.

    Returns
    -------
    ReportTables
        All columns of each table, rows in a fixed order.

    Raises
    ------
    ReportError
        If a table or a required column is missing, or a table the report needs is empty
        (every table but those of ``_MAY_BE_EMPTY``), naming it and saying how to build it.
    """
    # Fully qualified: a file called segments.duckdb is also a catalog called "segments", which
    # DuckDB would otherwise confuse with a schema of the same name.
    catalog = connection.execute("select current_database()").fetchall()[0][0]
    schemas = {"schema": schema, "reference_schema": reference_schema}
    frames: dict[str, pd.DataFrame] = {}
    for (schema_option, table), columns in REQUIRED_COLUMNS.items():
        table_schema = schemas[schema_option]
        label = f"{table_schema}.{table}"
        found = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, table_schema, table],
        ).fetchall()[0][0]
        if not found:
            raise ReportError(f"table {label} not found; {BUILD_HINT}")
        qualified = ".".join(_identifier(p) for p in (catalog, table_schema, table))
        # Columns first: the order by names required columns, and a missing one is a build to
        # redo, not a SQL error.
        present = connection.sql(f"select * from {qualified} limit 0").columns
        missing = [c for c in columns if c not in present]
        if missing:
            raise ReportError(
                f"table {label} lacks column(s) {', '.join(missing)}; rebuild it: {BUILD_HINT}"
            )
        frame = connection.sql(f"select * from {qualified} order by {_ORDER_BY[table]}").df()
        if frame.empty and table not in _MAY_BE_EMPTY:
            raise ReportError(f"table {label} is empty; {BUILD_HINT}")
        frames[table] = frame
    chosen = frames["cluster_k_evaluation"]["is_chosen"].fillna(False).astype(bool)
    if chosen.sum() != 1:
        raise ReportError(
            f"table {schema}.cluster_k_evaluation must mark exactly one chosen k, "
            f"found {int(chosen.sum())}"
        )
    return ReportTables(
        k_evaluation=frames["cluster_k_evaluation"],
        centroids=frames["cluster_centroids"],
        customers=frames["dim_customer_segments"],
        summary=frames["fct_segment_summary"],
        rfm_grid=frames["rfm_segment_grid"],
        rfm_segments=frames["rfm_segments"],
        persona_catalog=frames["cluster_personas"],
        backtest_segments=frames["fct_segment_backtest"],
        backtest_summary=frames["fct_backtest_summary"],
        backtest_calibration=frames["fct_backtest_calibration"],
        backtest_gains=frames["fct_backtest_gains"],
        purchase_models=frames["fct_purchase_model_comparison"],
        transitions=frames["fct_segment_transitions"],
        drift=frames["fct_segment_drift"],
    )


# --------------------------------------------------------------------------------------------
# Personas: one order and one colour each, shared by every figure
# --------------------------------------------------------------------------------------------


def persona_order(summary: pd.DataFrame) -> list[str]:
    """Persona keys by descending revenue, ties by key: the order of every legend and bar."""
    ordered = summary.assign(_revenue=summary["revenue"].astype(float)).sort_values(
        ["_revenue", "persona_key"], ascending=[False, True], kind="mergesort"
    )
    return ordered["persona_key"].astype(str).tolist()


def persona_colors(order: Sequence[str], extra: Sequence[str] = ()) -> dict[str, tuple[float, ...]]:
    """A colour per persona key, from ``tab10`` (``tab20`` beyond ten personas).

    Keys of ``extra`` that are not in ``order`` (a persona of an earlier snapshot that no
    customer holds today) get the palette's next unused colours, then greys, so that adding them
    never changes the colour of a persona of ``order``: every figure shows a persona alike.
    """
    palette = matplotlib.colormaps["tab10" if len(order) <= 10 else "tab20"].colors
    colors = {key: tuple(palette[i % len(palette)]) for i, key in enumerate(order)}
    extras = [key for key in dict.fromkeys(extra) if key not in colors]
    for j, key in enumerate(extras):
        i = len(order) + j
        grey = 0.35 + 0.4 * ((i - len(palette)) % 4) / 3
        colors[key] = tuple(palette[i]) if i < len(palette) else (grey, grey, grey)
    return colors


def _persona_names(summary: pd.DataFrame) -> dict[str, str]:
    return dict(
        zip(summary["persona_key"].astype(str), summary["persona_name"].astype(str), strict=True)
    )


def _chosen_row(k_evaluation: pd.DataFrame) -> pd.Series:
    return k_evaluation.loc[k_evaluation["is_chosen"].fillna(False).astype(bool)].iloc[0]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def k_selection_figure(k_evaluation: pd.DataFrame) -> Figure:
    """Inertia and silhouette by candidate k, the chosen k marked in both panels.

    Parameters
    ----------
    k_evaluation : pandas.DataFrame
        One row per candidate k with ``k``, ``inertia``, ``silhouette`` and ``is_chosen``
        (exactly one true).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the k axis: inertia (top), silhouette (bottom).
    """
    frame = k_evaluation.sort_values("k")
    k = frame["k"].astype(int).to_numpy()
    chosen_k = int(_chosen_row(frame)["k"])
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for ax, column, label in (
        (top, "inertia", "Inertia (within-cluster SS)"),
        (bottom, "silhouette", "Mean silhouette"),
    ):
        ax.plot(k, frame[column].astype(float).to_numpy(), marker="o", color="#1f4e79")
        ax.axvline(chosen_k, color="#c0392b", linestyle="--", linewidth=1.5)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    top.annotate(
        f"chosen k = {chosen_k}",
        xy=(chosen_k, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -14),
        textcoords="offset points",
        color="#c0392b",
        fontweight="bold",
    )
    bottom.set_xlabel("number of clusters k")
    bottom.set_xticks(k)
    top.set_title("Choosing k: inertia and silhouette by candidate k")
    return fig


def segment_sizes_figure(summary: pd.DataFrame, order: Sequence[str] | None = None) -> Figure:
    """Share of customers against share of net revenue per persona, as grouped horizontal bars.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``fct_segment_summary``: ``persona_key``, ``persona_name``, ``customer_share`` and
        ``revenue_share`` (fractions, 0-1).
    order : sequence of str, optional
        Persona keys top to bottom; default :func:`persona_order`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    order = list(order) if order is not None else persona_order(summary)
    rows = summary.set_index(summary["persona_key"].astype(str)).loc[order]
    names = rows["persona_name"].astype(str).tolist()
    y = np.arange(len(order))
    height = 0.38
    fig = Figure(figsize=(8.0, 1.0 + 0.75 * len(order)), layout="constrained")
    ax = fig.subplots()
    for offset, column, label, color in (
        (-height / 2, "customer_share", "share of customers", "#7f9cc0"),
        (height / 2, "revenue_share", "share of net revenue", "#1f4e79"),
    ):
        values = rows[column].astype(float).to_numpy()
        bars = ax.barh(y + offset, values, height=height, label=label, color=color)
        ax.bar_label(bars, labels=[f"{v:.1%}" for v in values], padding=3, fontsize=8)
    ax.set_yticks(y, labels=["\n".join(textwrap.wrap(n, 22)) for n in names])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    largest = float(rows[["customer_share", "revenue_share"]].max().max())
    ax.set_xlim(right=max(largest, 1e-9) * 1.18)  # room for the percentage labels
    ax.axvline(0, color="black", linewidth=0.8)
    ax.legend(loc="lower right")
    ax.set_title("Personas: share of customers vs share of net revenue")
    ax.grid(axis="x", alpha=0.3)
    return fig


def customers_with_a_purchase(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers with a purchase before as_of_date: those with a recency (and RFM scores).

    The rule persona ``no_purchase`` (only returns) has neither: it is left off the figures that
    place customers by recency or by score.
    """
    return customers.loc[customers["recency_days"].notna()]


def snake_plot_values(customers: pd.DataFrame) -> pd.DataFrame:
    """Mean standardised log recency, frequency and monetary per persona.

    Each of ``log1p(recency_days)``, ``log1p(frequency)`` and ``log1p(max(monetary, 0))`` is
    standardised over all customers with a purchase (mean 0, population standard deviation 1; a
    constant feature gives 0), then averaged per persona. Customers without one (the rule
    persona ``no_purchase``: only returns) have no recency and are left out.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``dim_customer_segments``: one row per customer with ``persona_key``, ``recency_days``,
        ``frequency`` and ``monetary`` (net revenue, may be zero or negative).

    Returns
    -------
    pandas.DataFrame
        Index ``persona_key``, columns ``recency_days``, ``frequency``, ``monetary`` (z-units).
    """
    customers = customers_with_a_purchase(customers)
    logs = pd.DataFrame(
        {
            "recency_days": np.log1p(customers["recency_days"].astype(float).clip(lower=0)),
            "frequency": np.log1p(customers["frequency"].astype(float).clip(lower=0)),
            "monetary": np.log1p(customers["monetary"].astype(float).clip(lower=0)),
        }
    )
    std = logs.std(ddof=0).replace(0.0, np.nan)
    z = ((logs - logs.mean()) / std).fillna(0.0)
    z["persona_key"] = customers["persona_key"].astype(str).to_numpy()
    return z.groupby("persona_key", sort=True).mean()


def snake_plot_figure(
    customers: pd.DataFrame, names: dict[str, str], order: Sequence[str] | None = None
) -> Figure:
    """Snake plot: one line per persona across its standardised R, F and M means.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``dim_customer_segments``; see :func:`snake_plot_values`.
    names : dict
        ``persona_key -> persona_name`` for the legend.
    order : sequence of str, optional
        Persona keys in legend order; default sorted keys.

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = snake_plot_values(customers)
    order = [k for k in (order or sorted(values.index)) if k in values.index]
    colors = persona_colors(order)
    x = np.arange(len(SNAKE_FEATURES))
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.axhline(0, color="grey", linewidth=0.8)
    for key in order:
        ax.plot(
            x,
            values.loc[key, [f for f, _ in SNAKE_FEATURES]].to_numpy(),
            marker="o",
            linewidth=2,
            color=colors[key],
            label=names.get(key, key),
        )
    ax.set_xticks(x, labels=[label for _, label in SNAKE_FEATURES])
    ax.set_ylabel("mean z-score (all customers: mean 0, sd 1)")
    ax.set_title("Snake plot: standardised recency, frequency and monetary by persona")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


def sample_customers(customers: pd.DataFrame, max_points: int, seed: int = 0) -> pd.DataFrame:
    """At most ``max_points`` customers, drawn reproducibly (same rows for the same input).

    Rows are sorted by ``customer_id`` first, so the sample does not depend on row order.
    """
    ordered = customers.sort_values("customer_id", kind="mergesort")
    if len(ordered) <= max_points:
        return ordered
    sample = ordered.sample(n=max_points, random_state=seed)
    return sample.sort_values("customer_id", kind="mergesort")


def recency_monetary_figure(
    customers: pd.DataFrame,
    names: dict[str, str],
    order: Sequence[str] | None = None,
    max_points: int = 20_000,
    seed: int = 0,
) -> Figure:
    """Recency against net revenue per customer, on log scales, coloured by persona.

    Net revenue below 1 (zero or negative after returns) and recency below 1 day are drawn at 1,
    so that both log scales are defined. Customers without a purchase (``no_purchase``) have no
    recency and are not drawn. More than ``max_points`` customers are sampled with
    :func:`sample_customers`.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``dim_customer_segments`` with ``customer_id``, ``persona_key``, ``recency_days`` and
        ``monetary``.
    names : dict
        ``persona_key -> persona_name`` for the legend.
    order : sequence of str, optional
        Persona keys in drawing and legend order; default sorted keys.
    max_points : int
        Most customers drawn.
    seed : int
        Seed of the sample.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shown = sample_customers(customers_with_a_purchase(customers), max_points, seed)
    keys = shown["persona_key"].astype(str)
    order = [k for k in (order or sorted(keys.unique())) if (keys == k).any()]
    colors = persona_colors(order)
    fig = Figure(figsize=(8.0, 5.5), layout="constrained")
    ax = fig.subplots()
    for key in order:
        rows = shown.loc[keys == key]
        ax.scatter(
            rows["recency_days"].astype(float).clip(lower=1.0),
            rows["monetary"].astype(float).clip(lower=1.0),
            s=7,
            alpha=0.5,
            linewidths=0,
            color=colors[key],
            label=names.get(key, key),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("recency: days since last purchase (log scale, < 1 drawn at 1)")
    ax.set_ylabel("net revenue (log scale, < 1 drawn at 1)")
    ax.set_title("Recency vs net revenue by persona")
    ax.grid(alpha=0.3, which="major")
    legend = ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2.5)
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    return fig


def rfm_grid_counts(
    customers: pd.DataFrame, rfm_grid: pd.DataFrame, rfm_segments: pd.DataFrame
) -> pd.DataFrame:
    """Customers per cell of the 5 x 5 recency x frequency score grid, with the cell's segment.

    Parameters
    ----------
    customers : pandas.DataFrame
        ``dim_customer_segments`` with ``recency_score`` and ``frequency_score`` (1-5; NULL for
        a customer without a purchase, who is not counted).
    rfm_grid : pandas.DataFrame
        The ``rfm_segment_grid`` seed: ``recency_score``, ``frequency_score``,
        ``rfm_segment_key``.
    rfm_segments : pandas.DataFrame
        The ``rfm_segments`` seed: ``rfm_segment_key``, ``rfm_segment`` (display name).

    Returns
    -------
    pandas.DataFrame
        25 rows: ``recency_score``, ``frequency_score``, ``customer_count`` (0 for empty cells)
        and ``rfm_segment`` (the segment's name, its key if unnamed, empty if not in the grid).
    """
    scores = range(1, 6)
    cells = pd.MultiIndex.from_product([scores, scores], names=["recency_score", "frequency_score"])
    scored = customers_with_a_purchase(customers)
    counts = (
        scored.groupby([scored["recency_score"].astype(int), scored["frequency_score"].astype(int)])
        .size()
        .reindex(cells, fill_value=0)
        .rename("customer_count")
        .reset_index()
    )
    seg_names = dict(
        zip(
            rfm_segments["rfm_segment_key"].astype(str),
            rfm_segments["rfm_segment"].astype(str),
            strict=True,
        )
    )
    grid = rfm_grid.assign(
        recency_score=rfm_grid["recency_score"].astype(int),
        frequency_score=rfm_grid["frequency_score"].astype(int),
        rfm_segment=[seg_names.get(str(k), str(k)) for k in rfm_grid["rfm_segment_key"]],
    )[["recency_score", "frequency_score", "rfm_segment"]]
    out = counts.merge(grid, on=["recency_score", "frequency_score"], how="left")
    out["rfm_segment"] = out["rfm_segment"].fillna("")
    return out


def rfm_grid_figure(
    customers: pd.DataFrame, rfm_grid: pd.DataFrame, rfm_segments: pd.DataFrame
) -> Figure:
    """Heat map of customers on the classic 5 x 5 R x F map, cells annotated with count and segment.

    Parameters are those of :func:`rfm_grid_counts`. Recency score runs up the vertical axis,
    frequency score along the horizontal one (5 = most recent / most frequent).

    Returns
    -------
    matplotlib.figure.Figure
    """
    cells = rfm_grid_counts(customers, rfm_grid, rfm_segments)
    counts = cells.pivot(index="recency_score", columns="frequency_score", values="customer_count")
    labels = cells.set_index(["recency_score", "frequency_score"])["rfm_segment"]
    matrix = counts.to_numpy(dtype=float)
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(matrix, origin="lower", cmap="Blues", vmin=0, vmax=max(matrix.max(), 1.0))
    top = max(matrix.max(), 1.0)
    for i, r in enumerate(counts.index):
        for j, f in enumerate(counts.columns):
            name = "\n".join(textwrap.wrap(labels.loc[(r, f)], 11))
            ax.text(
                j,
                i,
                f"{int(matrix[i, j]):,}\n{name}",
                ha="center",
                va="center",
                fontsize=7.5,
                color="white" if matrix[i, j] > 0.55 * top else "black",
            )
    ax.set_xticks(range(5), labels=[str(f) for f in counts.columns])
    ax.set_yticks(range(5), labels=[str(r) for r in counts.index])
    ax.set_xlabel("frequency score (5 = most orders)")
    ax.set_ylabel("recency score (5 = most recent)")
    ax.set_title("Customers on the classic RFM map (recency x frequency)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="customers")
    return fig


# --------------------------------------------------------------------------------------------
# Backtest figures and tables: the pipeline fitted as of the cutoff, judged on the horizon after
# --------------------------------------------------------------------------------------------

RANKING_LABELS: dict[str, str] = {
    "next_purchase_probability": "Purchase probability",
    "rfm_score": "R+F+M score",
    "persona": "Persona (its repeat rate)",
    "recency_days": "Recency (most recent first)",
}
VALIDATION_LABELS: dict[str, str] = {
    "out_of_time": "out of time (trained one horizon earlier)",
    "cross_validation": "cross-validation (within the cutoff's horizon)",
}
_RANKING_COLORS = {
    "next_purchase_probability": "#1f4e79",
    "rfm_score": "#c0392b",
    "persona": "#2e8b57",
    "recency_days": "#8e6c8a",
}
_VALIDATION_COLORS = {"out_of_time": "#1f4e79", "cross_validation": "#e67e22"}


def persona_label(key: str, names: dict[str, str]) -> str:
    """The display name of a persona key: ``names``, else ``Segment <n>`` for a fallback
    cluster ``segment_<n>`` (as :mod:`customer_segments.naming` names it), else the key."""
    if key in names:
        return names[key]
    match = re.fullmatch(r"segment_(\d+)", key)
    return f"Segment {match[1]}" if match else key


def backtest_status(tables: ReportTables) -> tuple[bool, str]:
    """Whether the build has a backtest and, if not, why (``not_computed_reason``).

    Every backtest mart carries the same status; the backtest is computed when every row of
    all four says so.
    """
    frames = (
        tables.backtest_summary,
        tables.backtest_segments,
        tables.backtest_calibration,
        tables.backtest_gains,
    )
    computed = all(frame["is_computed"].fillna(False).astype(bool).all() for frame in frames)
    if computed:
        return True, ""
    reasons = [r for f in frames for r in f["not_computed_reason"].dropna().astype(str)]
    return False, reasons[0] if reasons else "the backtest marts say it was not computed"


def name_contradiction_note(backtest: pd.DataFrame) -> str:
    """One sentence: which persona names the backtest contradicts, or that it bears them out.

    Parameters
    ----------
    backtest : pandas.DataFrame
        ``fct_segment_backtest``: the persona rows with ``expected_repeat`` (what the name
        promises) and ``is_name_contradicted``.

    Returns
    -------
    str
        For example "The backtest contradicts 1 persona name(s): lost (expected to come back
        less often than the base rate; 68.9% did, against 33.0%). ..." or, when every name that
        promises something holds, "The backtest bears out the 3 persona name(s) that promise
        ...".
    """
    rows = backtest.loc[
        (backtest["grouping"] == "persona") & backtest["expected_repeat"].notna()
    ].sort_values("segment_key", kind="mergesort")
    if rows.empty:
        return "No persona of the cutoff's fit promises a repeat rate above or below the base rate."
    contradicted = rows.loc[rows["is_name_contradicted"].fillna(False).astype(bool)]
    if contradicted.empty:
        return (
            f"The backtest bears out the {len(rows)} persona name(s) that promise a repeat rate "
            f"above or below the base rate ({', '.join(rows['segment_key'])}): none did the "
            "opposite by more than sampling error (fct_segment_backtest.is_name_contradicted)."
        )
    parts = [
        f"{row.segment_key} (expected to come back "
        f"{'more' if row.expected_repeat == 'above_base_rate' else 'less'} often than the base "
        f"rate; {float(row.repeat_rate):.1%} did, against {float(row.base_rate):.1%})"
        for row in contradicted.itertuples()
    ]
    return (
        f"The backtest contradicts {len(parts)} persona name(s): {'; '.join(parts)}. Beyond "
        "sampling error (fct_segment_backtest.is_name_contradicted; the build warns): read "
        "these customers' measures before acting on the name."
    )


def backtest_persona_rows(backtest: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The persona rows of ``fct_segment_backtest`` by descending lift, then a row for all.

    Parameters
    ----------
    backtest : pandas.DataFrame
        ``fct_segment_backtest``; only the rows of grouping ``persona`` are used.
    names : dict
        ``persona_key -> display name`` (see :func:`persona_label`).

    Returns
    -------
    pandas.DataFrame
        ``persona_name``, ``segment_key``, ``customers``, ``repeat_customers``,
        ``repeat_rate``, ``lift``, ``revenue_per_customer``: one row per persona (ties of lift
        by key), then ``All backtest customers`` (empty key), whose repeat rate and revenue per
        customer are those of the personas' customers together and whose lift is that rate
        over the mart's ``base_rate`` (1 when the personas cover every backtest customer).
    """
    rows = backtest.loc[backtest["grouping"] == "persona"].copy()
    rows["segment_key"] = rows["segment_key"].astype(str)
    rows["lift"] = rows["lift"].astype(float)
    rows = rows.sort_values(["lift", "segment_key"], ascending=[False, True], kind="mergesort")
    rows["persona_name"] = [persona_label(k, names) for k in rows["segment_key"]]
    customers = float(rows["customers"].astype(float).sum())
    repeat = float(rows["repeat_customers"].astype(float).sum())
    revenue = float(rows["next_period_revenue"].astype(float).sum())
    base_rate = float(rows["base_rate"].astype(float).iloc[0]) if len(rows) else np.nan
    rate = repeat / customers if customers else np.nan
    total = pd.DataFrame(
        [
            {
                "persona_name": "All backtest customers",
                "segment_key": "",
                "customers": customers,
                "repeat_customers": repeat,
                "repeat_rate": rate,
                "lift": rate / base_rate if base_rate else np.nan,
                "revenue_per_customer": revenue / customers if customers else np.nan,
            }
        ]
    )
    columns = list(total.columns)
    return pd.concat([rows[columns], total], ignore_index=True)


def gains_figure(gains: pd.DataFrame, summary: pd.DataFrame) -> Figure:
    """Cumulative-gains curves of the rankings, AUCs in the legend, random and perfect contact.

    Parameters
    ----------
    gains : pandas.DataFrame
        ``fct_backtest_gains``: per ``ranking`` and ``step``, ``share_contacted`` and
        ``share_of_buyers_found`` (fractions). Each curve is drawn from (0, 0).
    summary : pandas.DataFrame
        ``fct_backtest_summary``: ``ranking``, ``auc``, ``base_rate`` and ``method`` (the chosen
        method, on the next_purchase_probability row).

    Returns
    -------
    matplotlib.figure.Figure
        One line per ranking, by descending AUC (ties by name), then the diagonal of random
        contact and the curve of a perfect ranking (every buyer first).
    """
    aucs = summary.set_index(summary["ranking"].astype(str))
    auc = {k: float(v) for k, v in aucs["auc"].items() if pd.notna(v)}
    keys = sorted(
        set(gains["ranking"].dropna().astype(str)), key=lambda k: (-auc.get(k, -np.inf), k)
    )
    fig = Figure(figsize=(7.5, 5.8), layout="constrained")
    ax = fig.subplots()
    for key in keys:
        rows = gains.loc[gains["ranking"] == key].sort_values("step")
        x = np.concatenate([[0.0], rows["share_contacted"].astype(float).to_numpy()])
        y = np.concatenate([[0.0], rows["share_of_buyers_found"].astype(float).to_numpy()])
        label = RANKING_LABELS.get(key, key)
        method = aucs["method"].get(key)
        if isinstance(method, str) and method:
            label += f" ({method})"
        if key in auc:
            label += f": AUC {auc[key]:.3f}"
        ax.plot(
            x, y, marker="o", markersize=3, linewidth=2, label=label, color=_RANKING_COLORS.get(key)
        )
    ax.plot(
        [0, 1],
        [0, 1],
        color="grey",
        linestyle="--",
        linewidth=1.2,
        label="Random contact: AUC 0.500",
    )
    base_rates = summary["base_rate"].dropna().astype(float)
    if len(base_rates):
        base_rate = float(base_rates.iloc[0])
        ax.plot(
            [0, base_rate, 1],
            [0, 1, 1],
            color="grey",
            linestyle=":",
            linewidth=1.2,
            label=f"Perfect ranking (the {base_rate:.1%} who bought, first)",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the customers contacted, best-ranked first")
    ax.set_ylabel("share of the next-period buyers found")
    ax.set_title("Backtest: cumulative gains of each ranking")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def calibration_figure(calibration: pd.DataFrame) -> Figure:
    """Mean predicted probability against observed repeat rate per decile, per validation.

    Parameters
    ----------
    calibration : pandas.DataFrame
        ``fct_backtest_calibration``: per ``validation`` and ``decile``, ``mean_predicted``,
        ``observed_rate`` and ``gap_standard_error`` (fractions).

    Returns
    -------
    matplotlib.figure.Figure
        One line of ten points per validation (out_of_time first), each point with a bar of
        +-1.96 ``gap_standard_error``: a bar that reaches the diagonal (a perfectly calibrated
        probability) is a gap that sampling alone explains. Both axes 0-100%.
    """
    known = [v for v in VALIDATION_LABELS if (calibration["validation"] == v).any()]
    others = sorted(set(calibration["validation"].dropna().astype(str)) - set(known))
    fig = Figure(figsize=(6.8, 6.2), layout="constrained")
    ax = fig.subplots()
    ax.plot(
        [0, 1], [0, 1], color="grey", linestyle="--", linewidth=1.2, label="perfectly calibrated"
    )
    for validation in known + others:
        rows = calibration.loc[calibration["validation"] == validation].sort_values("decile")
        ax.errorbar(
            rows["mean_predicted"].astype(float).to_numpy(),
            rows["observed_rate"].astype(float).to_numpy(),
            yerr=SAMPLING_ERROR_Z * rows["gap_standard_error"].astype(float).to_numpy(),
            marker="o",
            linewidth=1.5,
            elinewidth=1.0,
            capsize=0,
            color=_VALIDATION_COLORS.get(validation),
            label=VALIDATION_LABELS.get(validation, validation),
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("mean predicted probability of the decile")
    ax.set_ylabel("share of the decile who bought in the horizon")
    ax.set_title("Backtest: calibration of the purchase probability by decile")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------
# History figures: segments over the snapshot dates, with the model of as_of_date
# --------------------------------------------------------------------------------------------

NOT_YET_CUSTOMER = "not_yet_customer"


def snapshot_dates(tables: ReportTables) -> list[pd.Timestamp]:
    """Every snapshot date of the history, in order (those of the drift and the transitions)."""
    dates = pd.concat(
        [
            pd.to_datetime(tables.drift["snapshot_date"]),
            pd.to_datetime(tables.transitions["from_snapshot_date"]),
            pd.to_datetime(tables.transitions["to_snapshot_date"]),
        ]
    )
    return sorted(set(dates.dropna()))


def persona_counts_over_time(transitions: pd.DataFrame) -> pd.DataFrame:
    """Customers per persona on each snapshot date, from ``fct_segment_transitions``.

    Every customer of each snapshot date is counted once in the transitions (the mart's dbt
    test): by ``to_persona`` on every later date and by ``from_persona`` (but
    ``not_yet_customer``) on the first date.

    Parameters
    ----------
    transitions : pandas.DataFrame
        ``fct_segment_transitions``; only the rows of grouping ``persona`` are used.

    Returns
    -------
    pandas.DataFrame
        Index ``snapshot_date`` (ascending), one column per persona key (sorted), customers
        (0 where a persona has none). Empty without transitions.
    """
    rows = transitions.loc[transitions["grouping"] == "persona"]
    if rows.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="snapshot_date"), dtype=int)
    first_date = pd.to_datetime(rows["from_snapshot_date"]).min()
    first = rows.loc[
        (pd.to_datetime(rows["from_snapshot_date"]) == first_date)
        & (rows["from_persona"] != NOT_YET_CUSTOMER)
    ]
    counts = pd.concat(
        [
            pd.DataFrame(
                {
                    "snapshot_date": pd.to_datetime(first["from_snapshot_date"]),
                    "persona_key": first["from_persona"].astype(str),
                    "customers": first["customers"].astype(int),
                }
            ),
            pd.DataFrame(
                {
                    "snapshot_date": pd.to_datetime(rows["to_snapshot_date"]),
                    "persona_key": rows["to_persona"].astype(str),
                    "customers": rows["customers"].astype(int),
                }
            ),
        ]
    )
    table = counts.pivot_table(
        index="snapshot_date",
        columns="persona_key",
        values="customers",
        aggfunc="sum",
        fill_value=0,
    )
    table.columns.name = None
    return table.sort_index().sort_index(axis=1).astype(int)


def _snapshot_ticks(ax: matplotlib.axes.Axes, dates: Sequence[object]) -> None:
    """A tick per snapshot date, labelled unless the next date is within two weeks (as_of_date
    a few days after the first of its month), so that no two labels overlap."""
    stamps = pd.DatetimeIndex(dates)
    labels = [
        ""
        if i + 1 < len(stamps) and stamps[i + 1] - d < pd.Timedelta(days=14)
        else d.strftime("%Y-%m-%d")
        for i, d in enumerate(stamps)
    ]
    ax.set_xticks(stamps.to_pydatetime(), labels=labels, rotation=45, ha="right", fontsize=8)


def _keys_in_order(order: Sequence[str], keys: Sequence[str]) -> list[str]:
    """``keys`` in ``order``, then those not in it sorted: the personas present, legend order."""
    present = set(keys)
    return [k for k in order if k in present] + sorted(present - set(order))


def persona_sizes_figure(
    counts: pd.DataFrame, names: dict[str, str], order: Sequence[str] | None = None
) -> Figure:
    """Stacked area of the customers per persona over the snapshot dates.

    Parameters
    ----------
    counts : pandas.DataFrame
        As returned by :func:`persona_counts_over_time`.
    names : dict
        ``persona_key -> display name`` for the legend (see :func:`persona_label`).
    order : sequence of str, optional
        Persona keys, top of the stack and of the legend first; default sorted keys. Keys not
        in it come after, coloured without changing the others' colours.

    Returns
    -------
    matplotlib.figure.Figure
    """
    base = list(order) if order is not None else []
    keys = _keys_in_order(base, list(counts.columns))
    colors = persona_colors(base, extra=keys)
    dates = pd.DatetimeIndex(counts.index).to_pydatetime()
    fig = Figure(figsize=(8.5, 5.0), layout="constrained")
    ax = fig.subplots()
    # Drawn bottom-up, so the first persona of the order is on top, as in the legend.
    stacked = list(reversed(keys))
    ax.stackplot(
        dates,
        *[counts[k].to_numpy(dtype=float) for k in stacked],
        colors=[colors[k] for k in stacked],
        labels=[persona_label(k, names) for k in stacked],
        alpha=0.9,
    )
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8
    )
    _snapshot_ticks(ax, dates)
    ax.set_xlim(dates[0], dates[-1])
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("customers")
    ax.set_title("Persona sizes over the snapshot dates")
    ax.grid(axis="y", alpha=0.3)
    return fig


def last_transitions(transitions: pd.DataFrame) -> pd.DataFrame:
    """The persona transitions of the last period (the latest ``from_snapshot_date``)."""
    rows = transitions.loc[transitions["grouping"] == "persona"]
    if rows.empty:
        return rows
    last = pd.to_datetime(rows["from_snapshot_date"]).max()
    return rows.loc[pd.to_datetime(rows["from_snapshot_date"]) == last].reset_index(drop=True)


def _compact_amount(value: float) -> str:
    """``1234567`` as ``1.23M``, ``42785`` as ``42.8k``, small amounts whole."""
    size = abs(value)
    if size >= 999_500:
        return f"{value / 1e6:.2f}M"
    if size >= 9_995:
        return f"{value / 1e3:.1f}k"
    if size >= 999.5:
        return f"{value / 1e3:.2f}k"
    return f"{value:,.0f}"


def transition_matrix(
    last: pd.DataFrame, order: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers and value at stake per (from, to) persona of one period, as two matrices.

    Parameters
    ----------
    last : pandas.DataFrame
        Rows of ``fct_segment_transitions`` of one period (see :func:`last_transitions`).
    order : sequence of str, optional
        Persona keys, row and column order; keys not in it come after, sorted, and
        ``not_yet_customer`` is the last row.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``customers`` (0 for a move nobody made) and ``revenue_at_stake`` (NaN there), index
        from_persona, columns to_persona.
    """
    base = list(order) if order is not None else []
    from_keys = [
        k
        for k in _keys_in_order(base, last["from_persona"].astype(str).unique())
        if k != NOT_YET_CUSTOMER
    ]
    if (last["from_persona"] == NOT_YET_CUSTOMER).any():
        from_keys.append(NOT_YET_CUSTOMER)
    to_keys = _keys_in_order(base, last["to_persona"].astype(str).unique())
    frame = last.assign(
        from_persona=last["from_persona"].astype(str),
        to_persona=last["to_persona"].astype(str),
        customers=last["customers"].astype(int),
        revenue_at_stake=last["revenue_at_stake"].astype(float),
    )
    counts = (
        frame.pivot_table(
            index="from_persona",
            columns="to_persona",
            values="customers",
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(index=from_keys, columns=to_keys, fill_value=0)
        .astype(int)
    )
    stake = frame.pivot_table(
        index="from_persona", columns="to_persona", values="revenue_at_stake", aggfunc="sum"
    ).reindex(index=from_keys, columns=to_keys)
    for matrix in (counts, stake):
        matrix.index.name, matrix.columns.name = "from_persona", "to_persona"
    return counts, stake


def transitions_figure(
    last: pd.DataFrame, names: dict[str, str], order: Sequence[str] | None = None
) -> Figure:
    """Heat map of the last period's moves: rows from, columns to, customers and value at stake.

    Each cell is shaded by its share of the row's customers (where the customers of a persona
    went) and labelled with the customers and their net revenue in the 365 days before the
    earlier date; the cells of customers who kept their persona are framed.

    Parameters
    ----------
    last : pandas.DataFrame
        See :func:`transition_matrix`.
    names : dict
        ``persona_key -> display name`` (see :func:`persona_label`).
    order : sequence of str, optional
        See :func:`transition_matrix`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    counts, stake = transition_matrix(last, order)
    matrix = counts.to_numpy(dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    labels = {**names, NOT_YET_CUSTOMER: "Not yet a customer"}
    n_rows, n_cols = matrix.shape
    fig = Figure(figsize=(1.6 + 1.05 * n_cols, 1.8 + 0.7 * n_rows), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i, from_key in enumerate(counts.index):
        for j, to_key in enumerate(counts.columns):
            if matrix[i, j] > 0:
                ax.text(
                    j,
                    i,
                    f"{int(matrix[i, j]):,}\n{_compact_amount(stake.iloc[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if shares[i, j] > 0.55 else "black",
                )
            if from_key == to_key:
                ax.add_patch(
                    matplotlib.patches.Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#333333", linewidth=1.2
                    )
                )
    ax.set_xticks(
        range(n_cols),
        labels=["\n".join(textwrap.wrap(persona_label(k, labels), 12)) for k in counts.columns],
        fontsize=8,
    )
    ax.set_yticks(
        range(n_rows), labels=[persona_label(k, labels) for k in counts.index], fontsize=8
    )
    ax.set_xlabel("persona on the later date")
    ax.set_ylabel("persona on the earlier date")
    start, end = (
        pd.to_datetime(last[c]).max().date().isoformat()
        for c in ("from_snapshot_date", "to_snapshot_date")
    )
    ax.set_title(f"Who moved where, {start} to {end}: customers and value at stake", fontsize=10)
    fig.colorbar(
        image,
        ax=ax,
        shrink=0.8,
        format=PercentFormatter(1.0),
        label="share of the earlier persona's customers",
    )
    return fig


def psi_figure(drift: pd.DataFrame) -> Figure:
    """Population stability index of each model feature over the snapshot dates.

    Parameters
    ----------
    drift : pandas.DataFrame
        ``fct_segment_drift``: the rows of drift_kind ``feature_psi`` give per snapshot date and
        feature (``drift_key``) the PSI (``drift_value``); ``psi_threshold`` and
        ``refit_recommended`` are those of the snapshot.

    Returns
    -------
    matplotlib.figure.Figure
        One line per feature (sorted), the threshold as a dashed line, the snapshot dates with
        a refit recommended shaded. The vertical axis is linear up to 0.1 and logarithmic above
        (PSI is 0 on as_of_date itself and can reach several units on early snapshots).
    """
    psi = drift.loc[drift["drift_kind"] == "feature_psi"].assign(
        snapshot_date=lambda f: pd.to_datetime(f["snapshot_date"])
    )
    values = psi.pivot_table(
        index="snapshot_date", columns="drift_key", values="drift_value", aggfunc="first"
    ).sort_index()
    dates = pd.DatetimeIndex(values.index).to_pydatetime()
    fig = Figure(figsize=(8.5, 5.0), layout="constrained")
    ax = fig.subplots()
    refit = (
        psi.groupby("snapshot_date")["refit_recommended"]
        .agg(lambda s: bool(s.fillna(False).astype(bool).any()))
        .reindex(values.index, fill_value=False)
    )
    # One band per run of consecutive flagged snapshots, reaching halfway to its neighbours.
    stamps = pd.DatetimeIndex(values.index)
    edges = [stamps[0] - (stamps[1] - stamps[0]) / 2 if len(stamps) > 1 else stamps[0]]
    edges += [a + (b - a) / 2 for a, b in itertools.pairwise(stamps)]
    edges += [stamps[-1] + (stamps[-1] - stamps[-2]) / 2 if len(stamps) > 1 else stamps[-1]]
    flags = refit.to_numpy(dtype=bool)
    bands = 0
    for i, flagged in enumerate(flags):
        if flagged and (i == 0 or not flags[i - 1]):
            end = i
            while end + 1 < len(flags) and flags[end + 1]:
                end += 1
            ax.axvspan(
                edges[i],
                edges[end + 1],
                color="#c0392b",
                alpha=0.1,
                linewidth=0,
                label="refit recommended" if bands == 0 else None,
            )
            bands += 1
    for feature in sorted(values.columns):
        ax.plot(
            dates,
            values[feature].astype(float).to_numpy(),
            marker="o",
            markersize=4,
            linewidth=1.8,
            label=str(feature),
        )
    thresholds = psi["psi_threshold"].dropna().astype(float)
    if len(thresholds):
        threshold = float(thresholds.iloc[0])
        ax.axhline(
            threshold,
            color="#c0392b",
            linestyle="--",
            linewidth=1.5,
            label=f"threshold {threshold:g}",
        )
    ax.set_yscale("symlog", linthresh=0.1, linscale=0.6)
    highest = float(np.nanmax(values.to_numpy(dtype=float), initial=0.0))
    ax.set_ylim(0, max(highest, float(thresholds.max()) if len(thresholds) else 0.0, 0.1) * 1.6)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:g}"))
    _snapshot_ticks(ax, dates)
    ax.set_ylabel("PSI against as_of_date (linear below 0.1, log above)")
    ax.set_title("Drift: population stability index of each model feature")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------
# Assembling the report
# --------------------------------------------------------------------------------------------


def figure_to_png(fig: Figure, dpi: int = _DPI) -> bytes:
    """The figure as PNG bytes, without the metadata that would make two runs differ."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata=_PNG_METADATA)
    return buffer.getvalue()


def build_sections(tables: ReportTables, max_points: int = 20_000) -> list[Section]:
    """Every section of the report in page order: the segmentation's figures, the persona
    table, the backtest (:func:`backtest_sections`) and the history (:func:`history_sections`).
    """
    order = persona_order(tables.summary)
    sections: list[Section] = [
        *figure_sections(tables, order, max_points=max_points),
        persona_table(tables.summary, tables.centroids, order),
    ]
    sections += backtest_sections(tables)
    sections += history_sections(tables, order)
    return sections


def figure_sections(
    tables: ReportTables, order: Sequence[str], max_points: int = 20_000
) -> list[FigureSection]:
    """The figures of the segmentation with their titles and captions (the first five of
    :data:`FIGURE_IDS`, in that order).

    Parameters
    ----------
    tables : ReportTables
        The loaded warehouse tables.
    order : sequence of str
        Persona keys in legend and bar order (see :func:`persona_order`).
    max_points : int
        Most customers drawn in the scatter plot.

    Returns
    -------
    list of FigureSection
    """
    names = _persona_names(tables.summary)
    customers = tables.customers
    chosen = _chosen_row(tables.k_evaluation)
    bought = customers_with_a_purchase(customers)  # the scatter's customers
    n = len(bought)
    shown = min(n, max_points)
    clipped = int((bought["monetary"].astype(float) < 1).sum())
    sample_note = (
        f"All {n:,} customers with a purchase are drawn."
        if shown == n
        else f"A reproducible random sample of {shown:,} of the {n:,} customers with a purchase "
        "is drawn."
    )
    if len(customers) > n:
        sample_note += (
            f" {len(customers) - n:,} customer(s) with only returns (no_purchase) have no "
            "recency and are not drawn."
        )
    specs = [
        (
            "fig-k-selection",
            "How many segments: choosing k",
            k_selection_figure(tables.k_evaluation),
            "Inertia (within-cluster sum of squares; lower is tighter) and mean silhouette (higher is "
            f"better separated) for each candidate k; the dashed line marks the chosen k = "
            f"{int(chosen['k'])}. Reason recorded by the model: \u201c{chosen['reason']}\u201d",
        ),
        (
            "fig-segment-sizes",
            "Segment sizes: customers vs revenue",
            segment_sizes_figure(tables.summary, order),
            "For each persona, its share of all customers next to its share of total net revenue "
            "(purchases minus returns), from fct_segment_summary.",
        ),
        (
            "fig-snake-plot",
            "Snake plot of the personas",
            snake_plot_figure(customers, names, order),
            "Computed from dim_customer_segments: log1p(recency_days), log1p(frequency) and "
            "log1p(max(monetary, 0)) are each standardised over all customers with a purchase "
            "(mean 0, sd 1), then averaged per persona. High recency means the last purchase was "
            "long ago.",
        ),
        (
            "fig-recency-monetary",
            "Recency against net revenue",
            recency_monetary_figure(customers, names, order, max_points=max_points),
            "One dot per customer, coloured by persona; both axes are logarithmic. Net revenue and "
            f"recency below 1 are drawn at 1 ({clipped:,} of {n:,} customers have net revenue "
            f"below 1: zero or negative after returns). {sample_note}",
        ),
        (
            "fig-rfm-grid",
            "The classic RFM map",
            rfm_grid_figure(customers, tables.rfm_grid, tables.rfm_segments),
            "Customers per recency score x frequency score cell (quintile scores 1-5), each cell "
            "labelled with its count and the segment the classic RFM map gives it "
            "(rfm_segment_grid and rfm_segments seeds).",
        ),
    ]
    return [
        FigureSection(fid, title, caption, figure_to_png(fig)) for fid, title, fig, caption in specs
    ]


def _format_number(value: object, spec: str) -> str:
    """``value`` formatted with ``spec``; ``spec="n"`` drops the decimal of whole numbers."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if np.isnan(number):
        return ""
    if spec == "n":
        spec = ",.0f" if number.is_integer() else ",.1f"
    return format(number, spec)


def table_section(
    section_id: str,
    title: str,
    frame: pd.DataFrame,
    columns: Sequence[Column],
    table_id: str = "",
    caption: str = "",
) -> TableSection:
    """A table section showing ``columns`` of ``frame``, one row per frame row, in frame order.

    Parameters
    ----------
    section_id : str
        HTML id of the section (the target of its link in the page's contents).
    title : str
        Heading of the section.
    frame : pandas.DataFrame
        The rows to show; it must hold every ``Column.field``.
    columns : sequence of Column
        What to show, left to right, and how to format it.
    table_id : str, optional
        HTML id of the ``<table>`` itself.
    caption : str, optional
        Plain text shown under the table.

    Returns
    -------
    TableSection

    Raises
    ------
    KeyError
        If ``frame`` lacks a column's field.
    """
    missing = [c.field for c in columns if c.field not in frame.columns]
    if missing:
        raise KeyError(f"table {section_id!r}: frame lacks column(s) {', '.join(missing)}")
    cells = [[column.format(v) for v in frame[column.field].tolist()] for column in columns]
    return TableSection(
        section_id=section_id,
        title=title,
        columns=tuple(columns),
        rows=tuple(zip(*cells, strict=True)) if cells else (),
        table_id=table_id,
        caption=caption,
    )


PERSONA_COLUMNS: tuple[Column, ...] = (
    Column("persona_name", "Persona"),
    Column("persona_key", "Key", css_class="key"),
    Column("cluster_id", "Cluster", ".0f"),
    Column("customer_count", "Customers", ",.0f"),
    Column("customer_share", "Share of customers", ".1%"),
    Column("fitting_customer_count", "Fit it, any cluster", ",.0f"),
    Column("matched_customer_count", "First match, any cluster", ",.0f"),
    Column("revenue_share", "Share of revenue", ".1%"),
    Column("median_recency_days", "Median recency (days)", "n"),
    Column("median_frequency", "Median orders", "n"),
    Column("median_monetary", "Median net revenue", ",.2f"),
    Column("top_rfm_segments", "Top RFM segments"),
    Column("persona_description", "Description"),
    Column("persona_recommended_action", "Recommended action"),
)


PERSONA_CAPTION = (
    "Customers: the members of the cluster that carries the name (or of the rule persona). "
    "Fit it, any cluster: customers of every cluster who meet all of the persona's conditions "
    "themselves; one customer can fit several personas. First match, any cluster: those for "
    "whom it is the first persona, in the seed's priority order, whose conditions they meet "
    "(dim_customer_segments.matched_persona_key, the exports/audiences/matched_<key>.csv lists)."
)


def persona_table(
    summary: pd.DataFrame, centroids: pd.DataFrame, order: Sequence[str] | None = None
) -> TableSection:
    """The persona table: one row per persona of ``fct_segment_summary``, its cluster beside it.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``fct_segment_summary``, one row per persona.
    centroids : pandas.DataFrame
        ``cluster_centroids``: gives each persona its ``cluster_id`` (empty if it has none).
    order : sequence of str, optional
        Persona keys, row order; default :func:`persona_order`.

    Returns
    -------
    TableSection
        Section ``personas``, table ``persona-table``, columns :data:`PERSONA_COLUMNS`.
    """
    order = list(order) if order is not None else persona_order(summary)
    clusters = dict(zip(centroids["persona_key"].astype(str), centroids["cluster_id"], strict=True))
    rows = summary.set_index(summary["persona_key"].astype(str)).loc[order]
    rows = rows.assign(persona_key=order, cluster_id=[clusters.get(key) for key in order])
    return table_section(
        "personas",
        "Personas",
        rows,
        PERSONA_COLUMNS,
        table_id="persona-table",
        caption=PERSONA_CAPTION,
    )


# --------------------------------------------------------------------------------------------
# The backtest and history sections
# --------------------------------------------------------------------------------------------

BACKTEST_PERSONA_COLUMNS: tuple[Column, ...] = (
    Column("persona_name", "Persona at the cutoff"),
    Column("segment_key", "Key", css_class="key"),
    Column("customers", "Customers", ",.0f"),
    Column("repeat_customers", "Bought again", ",.0f"),
    Column("repeat_rate", "Repeat rate", ".1%"),
    Column("lift", "Lift over the base rate", ".2f"),
    Column("revenue_per_customer", "Revenue per customer", ",.2f"),
)

PURCHASE_MODEL_COLUMNS: tuple[Column, ...] = (
    Column("method", "Method", css_class="key"),
    Column("auc", "AUC (out of time)", ".3f"),
    Column("brier_score", "Brier score", ".3f"),
    Column("log_loss", "Log loss", ".3f"),
    Column("max_abs_decile_gap", "Largest decile gap", ".1%"),
    Column("chosen", "Chosen"),
    Column("reason", "Reason"),
)


def report_persona_names(tables: ReportTables) -> dict[str, str]:
    """Display names of the persona keys the report may show: the ``cluster_personas`` seed's,
    overridden by today's ``fct_segment_summary`` (which also names the fallback clusters)."""
    catalog = tables.persona_catalog
    names = dict(
        zip(catalog["persona_key"].astype(str), catalog["display_name"].astype(str), strict=True)
    )
    names.update(_persona_names(tables.summary))
    return names


def _iso(value: object) -> str:
    """A date as ``YYYY-MM-DD``; empty when missing."""
    stamp = pd.to_datetime(value)
    return "" if pd.isna(stamp) else stamp.date().isoformat()


def _date_runs(dates: Sequence[tuple[int, pd.Timestamp]]) -> str:
    """``(position, date)`` pairs, in snapshot order, as runs of consecutive snapshots.

    Consecutive positions make one run, written ``first to last``; runs are comma-separated.
    """
    runs: list[list[tuple[int, pd.Timestamp]]] = []
    for position, date in dates:
        if runs and runs[-1][-1][0] == position - 1:
            runs[-1].append((position, date))
        else:
            runs.append([(position, date)])
    return ", ".join(
        _iso(run[0][1]) if len(run) == 1 else f"{_iso(run[0][1])} to {_iso(run[-1][1])}"
        for run in runs
    )


def backtest_sections(tables: ReportTables) -> list[Section]:
    """The backtest part of the report, in page order.

    With a backtest: a note (cutoff, horizon, base rate, the AUC of each ranking and the
    chosen method), the persona table (``backtest-personas``), the gains figure
    (``fig-backtest-gains``), the calibration figure (``fig-backtest-calibration``) and the
    table of candidate methods (``backtest-methods``, when fct_purchase_model_comparison has
    rows). Without one, a single note (``backtest``) that says why.
    """
    computed, reason = backtest_status(tables)
    if not computed:
        return [
            NoteSection(
                "backtest",
                "Backtest: not computed",
                (
                    f"This build has no backtest: {reason}.",
                    "The backtest fits the pipeline again as of the cutoff (as_of_date minus the var "
                    "prediction_horizon_days, default 90) from the lines before it only, and compares "
                    "it with what its customers did up to as_of_date; the purchase probability it "
                    "judges is trained one horizon earlier still. It needs data from two horizons "
                    "before as_of_date and enough customers to cluster at the cutoff.",
                ),
            )
        ]
    summary = tables.backtest_summary
    first = summary.iloc[0]
    cutoff, horizon = _iso(first["cutoff_date"]), int(first["horizon_days"])
    customers, repeat = int(first["customers"]), int(first["repeat_customers"])
    base_rate = float(first["base_rate"])
    models = tables.purchase_models
    chosen = models.loc[models["is_chosen"].fillna(False).astype(bool)]
    probability_row = summary.loc[summary["ranking"] == "next_purchase_probability", "method"]
    method = (
        str(chosen["method"].iloc[0])
        if len(chosen)
        else str(probability_row.iloc[0])
        if len(probability_row.dropna())
        else "unknown"
    )
    ranked = summary.dropna(subset=["auc"]).sort_values(
        ["auc", "ranking"], ascending=[False, True], kind="mergesort"
    )
    aucs = ", ".join(
        f"{RANKING_LABELS.get(r, r)} {a:.3f}"
        for r, a in zip(ranked["ranking"], ranked["auc"].astype(float), strict=True)
    )
    intro = [
        f"The pipeline was fitted again as of the cutoff {cutoff}, {horizon} days before "
        f"as_of_date, from the lines before it only, and judged on what its {customers:,} "
        f"customers (those with a purchase before the cutoff) did in the {horizon} days after "
        f"it: {repeat:,} bought again, a base rate of {base_rate:.1%}.",
        f"AUC of each ranking for \u201cbought again\u201d (0.5 = chance, 1 = perfect): {aucs}.",
    ]
    if len(chosen):
        intro.append(
            f"next_purchase_probability uses the method {method}, chosen in "
            f"fct_purchase_model_comparison: \u201c{chosen['reason'].iloc[0]}\u201d"
        )
    else:
        intro.append(f"next_purchase_probability uses the method {method}.")
    intro.append(name_contradiction_note(tables.backtest_segments))
    sections: list[Section] = [
        NoteSection("backtest", "Backtest: do the segments predict who buys next?", tuple(intro)),
        table_section(
            "backtest-personas",
            "Backtest: repeat purchase by persona",
            backtest_persona_rows(tables.backtest_segments, report_persona_names(tables)),
            BACKTEST_PERSONA_COLUMNS,
            table_id="backtest-persona-table",
            caption=(
                f"Customers with a purchase before the cutoff {cutoff}, by the persona that the "
                "model fitted as of the cutoff gave them (named by the same conditions as "
                "today's, but a fallback segment_<n> of the cutoff is not today's). Repeat "
                f"rate: the share who bought at least once in the {horizon} days after the "
                f"cutoff; lift: the repeat rate over the base rate of {base_rate:.1%} (1 = no "
                "better than picking customers at random); revenue per customer: their net "
                "revenue in those days over the persona's customers (fct_segment_backtest)."
            ),
        ),
    ]
    figures = [
        (
            "fig-backtest-gains",
            "Backtest: cumulative gains",
            gains_figure(tables.backtest_gains, summary),
            f"The {customers:,} customers sorted by each ranking, best first, cut every 5%: the "
            f"share of the {repeat:,} who bought in the {horizon} days after the cutoff found "
            "among those contacted (fct_backtest_gains; customers tied at a cut count in "
            "proportion). The dashed diagonal is random contact, the dotted line a perfect "
            "ranking; AUCs from fct_backtest_summary.",
        ),
    ]
    calibration = tables.backtest_calibration
    gaps = []
    for validation in [v for v in VALIDATION_LABELS if (calibration["validation"] == v).any()]:
        rows = calibration.loc[calibration["validation"] == validation]
        gap = rows["observed_rate"].astype(float) - rows["mean_predicted"].astype(float)
        worst = gap.abs().idxmax()
        outside = int((~rows["is_gap_within_sampling_error"].astype(bool)).sum())
        gaps.append(
            f"{validation} {100 * gap[worst]:+.1f} points in decile "
            f"{int(rows.loc[worst, 'decile'])}, {outside} of {len(rows)} deciles off by more "
            "than sampling error"
        )
    figures.append(
        (
            "fig-backtest-calibration",
            "Backtest: calibration of the purchase probability",
            calibration_figure(calibration),
            f"The backtest's customers in ten deciles of the probability predicted by {method}; each "
            "point is a decile's mean prediction against the share who bought "
            "(fct_backtest_calibration). Out of time: trained one horizon before the cutoff, as "
            "next_purchase_probability is trained one horizon before as_of_date, so its gap "
            "includes the change between two horizons; cross-validation: out-of-fold within the "
            "cutoff's horizon, the method without that change. Points below the diagonal promised "
            "too much. Each bar spans 1.96 standard errors of the decile's observed rate either "
            "side: where it reaches the diagonal, sampling alone explains the gap (a calibrated "
            "probability has about 1 decile in 20 off by chance). Largest gap (observed minus "
            "predicted): " + "; ".join(gaps) + ".",
        )
    )
    sections += [
        FigureSection(fid, title, caption, figure_to_png(fig))
        for fid, title, fig, caption in figures
    ]
    if len(models):
        rows = models.assign(
            auc=models["auc"].astype(float),
            chosen=["yes" if c else "" for c in models["is_chosen"].fillna(False).astype(bool)],
        ).sort_values(["auc", "method"], ascending=[False, True], kind="mergesort")
        sections.append(
            table_section(
                "backtest-methods",
                "Backtest: the candidate methods of the purchase probability",
                rows,
                PURCHASE_MODEL_COLUMNS,
                table_id="purchase-model-table",
                caption=(
                    "Every candidate trained on the customers of the training cutoff (one "
                    "horizon before the cutoff) with what they did in the next horizon, and "
                    "judged on the cutoff's customers (out of time); the highest AUC is chosen "
                    "(fct_purchase_model_comparison). Brier score and log loss: lower is "
                    "better; largest decile gap: the largest |observed - predicted| of the "
                    "ten deciles."
                ),
            )
        )
    return sections


def history_sections(tables: ReportTables, order: Sequence[str]) -> list[Section]:
    """The history part of the report, in page order.

    With two snapshot dates or more: a note (``history``), the persona sizes
    (``fig-history-persona-sizes``), the last period's transitions
    (``fig-history-transitions``) and the PSI of each feature (``fig-history-psi``). With one
    (history_months = 0), only the note, saying so.
    """
    dates = snapshot_dates(tables)
    if len(dates) < 2:
        held = f"one snapshot date, {_iso(dates[0])}" if dates else "no snapshot date"
        return [
            NoteSection(
                "history",
                "History: one snapshot only",
                (
                    f"The history holds {held} (history_months = 0, or no kept line before the "
                    "first day of the month): there is no earlier date to compare it with, so no "
                    "persona sizes over time, transitions or drift to show.",
                    "Build with the var history_months (default 12) to add the first day of each of "
                    "that many months before as_of_date.",
                ),
            )
        ]
    names = report_persona_names(tables)
    first, last_date = _iso(dates[0]), _iso(dates[-1])
    sections: list[Section] = [
        NoteSection(
            "history",
            "History: segments over time",
            (
                f"{len(dates)} snapshot dates from {first} to {last_date} (as_of_date): the first day "
                "of each month of the history and as_of_date itself. On every date each customer is "
                f"assigned by the model fitted as of {last_date}, from their RFM on that date scored "
                "with the quintiles of as_of_date, so a move means the customer changed, not the "
                "model.",
            ),
        )
    ]
    figures = []
    counts = persona_counts_over_time(tables.transitions)
    if not counts.empty:
        totals = counts.sum(axis=1)
        figures.append(
            (
                "fig-history-persona-sizes",
                "History: persona sizes over time",
                persona_sizes_figure(counts, names, order),
                f"Customers per persona on each snapshot date, from {int(totals.iloc[0]):,} on "
                f"{_iso(totals.index[0])} to {int(totals.iloc[-1]):,} on {_iso(totals.index[-1])} "
                "(a customer counts from their first kept line), counted from "
                "fct_segment_transitions. Colours as in the figures above.",
            )
        )
    last = last_transitions(tables.transitions)
    if not last.empty:
        start, end = (
            _iso(last["from_snapshot_date"].iloc[0]),
            _iso(last["to_snapshot_date"].iloc[0]),
        )
        moved = last.loc[last["from_persona"].astype(str) != last["to_persona"].astype(str)]
        new = moved.loc[moved["from_persona"] == NOT_YET_CUSTOMER]
        known = moved.loc[moved["from_persona"] != NOT_YET_CUSTOMER]
        figures.append(
            (
                "fig-history-transitions",
                "History: who moved where in the last period",
                transitions_figure(last, names, order),
                f"Customers by persona on {start} (rows; \u201cNot yet a customer\u201d: no kept "
                f"line yet) and on {end} (columns), from fct_segment_transitions. Each cell gives "
                "the customers who made the move and, below, the value at stake: their net revenue "
                f"in the 365 days before {start}. Shading: the share of the row's customers; framed "
                f"cells kept their persona. {int(moved['customers'].sum()):,} customers changed "
                f"persona: {int(new['customers'].sum()):,} new customers and "
                f"{int(known['customers'].sum()):,} existing ones with "
                f"{known['revenue_at_stake'].astype(float).sum():,.2f} at stake.",
            )
        )
    psi = tables.drift.loc[tables.drift["drift_kind"] == "feature_psi"]
    if not psi.empty:
        psi_dates = sorted(set(pd.to_datetime(psi["snapshot_date"])))
        flagged = set(
            pd.to_datetime(
                psi.loc[psi["refit_recommended"].fillna(False).astype(bool), "snapshot_date"]
            )
        )
        runs = _date_runs([(i, d) for i, d in enumerate(psi_dates) if d in flagged])
        refit = (
            f"it is on {len(flagged)} of the {len(psi_dates)} snapshot dates (shaded): {runs}"
            if flagged
            else f"it is on none of the {len(psi_dates)} snapshot dates"
        )
        threshold = psi["psi_threshold"].dropna().astype(float)
        limit = f"{float(threshold.iloc[0]):g}" if len(threshold) else "the threshold"
        figures.append(
            (
                "fig-history-psi",
                "History: drift of the model features",
                psi_figure(tables.drift),
                "For each model feature, the population stability index of the customers with a "
                "purchase on each snapshot date against those of as_of_date (decile bins of "
                "as_of_date; fct_segment_drift). A refit is recommended when a snapshot's largest "
                f"PSI exceeds {limit} (var drift_psi_threshold): {refit}. In data that "
                "starts shortly before the history, recency and tenure drift by construction on "
                "the early dates.",
            )
        )
    sections += [
        FigureSection(fid, title, caption, figure_to_png(fig))
        for fid, title, fig, caption in figures
    ]
    return sections


def _environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates (package data), escaping every value."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("customer_segments", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails instead of rendering empty
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    facts: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    title: str = "Customer segments report",
) -> str:
    """The self-contained HTML page: header facts, a contents list, then the sections.

    Parameters
    ----------
    facts : sequence of (str, str)
        Label and value pairs for the header (plain text).
    sections : sequence of Section
        Figures and tables in page order. A figure becomes ``<figure id="...">`` with an embedded
        PNG, a table ``<section id="..."><table>``; each is linked from the contents list.
    title : str
        Page title.

    Returns
    -------
    str
        The page; it references no external resource and every text in it is escaped.

    Raises
    ------
    ValueError
        If a section is of an unknown kind or two sections share an id.
    """
    ids = [section.section_id for section in sections]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"section id(s) used twice: {', '.join(duplicated)}")
    unknown = sorted({s.kind for s in sections} - set(SECTION_KINDS))
    if unknown:
        raise ValueError(f"unknown section kind(s): {', '.join(unknown)}")
    template = _environment().get_template(TEMPLATE)
    return template.render(title=title, facts=list(facts), sections=list(sections))


def report_facts(tables: ReportTables, source: str) -> list[tuple[str, str]]:
    """The header's label and value pairs; ``source`` is the warehouse path shown in it."""
    customers = tables.customers
    computed, _ = backtest_status(tables)
    first = tables.backtest_summary.iloc[0]
    backtest = (
        f"cutoff {_iso(first['cutoff_date'])}, {int(first['horizon_days'])}-day horizon"
        if computed
        else "not computed"
    )
    dates = snapshot_dates(tables)
    history = (
        f"{len(dates)} snapshot dates, {_iso(dates[0])} to {_iso(dates[-1])}"
        if len(dates) > 1
        else "one snapshot date"
    )
    return [
        ("As of", _iso(pd.to_datetime(customers["as_of_date"]).max())),
        ("Customers", f"{len(customers):,}"),
        ("Chosen k", str(int(_chosen_row(tables.k_evaluation)["k"]))),
        ("Personas", str(len(tables.summary))),
        ("Backtest", backtest),
        ("History", history),
        ("Generated from", source),
    ]


def build_report(tables: ReportTables, source: str, max_points: int = 20_000) -> str:
    """The whole HTML report for loaded tables; ``source`` is the warehouse path shown in it."""
    return render_html(report_facts(tables, source), build_sections(tables, max_points=max_points))


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m customer_segments.report``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Write one self-contained HTML report (figures embedded as PNG, no external links) "
            "of the customer segmentation in a DuckDB warehouse built by `make build`."
        ),
    )
    parser.add_argument(
        "--duckdb",
        required=True,
        type=Path,
        metavar="PATH",
        help="DuckDB warehouse file built by dbt; opened read-only.",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="HTML",
        help="HTML file to write; its folder is created if needed.",
    )
    parser.add_argument(
        "--schema",
        default="main",
        metavar="SCHEMA",
        help="Schema of the marts and clustering tables (default: %(default)s).",
    )
    parser.add_argument(
        "--reference-schema",
        default="main_reference",
        metavar="SCHEMA",
        help="Schema of the rfm_segment_grid and rfm_segments seeds (default: %(default)s).",
    )
    parser.add_argument(
        "--max-points",
        default=20_000,
        type=int,
        metavar="INT",
        help="Most customers drawn in the scatter plot (default: %(default)s).",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit code (0 success, 1 error, 2 bad arguments)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help or a usage error, already printed by argparse
        return int(exit_.code or 0)
    try:
        if args.max_points < 1:
            raise ReportError(f"--max-points must be at least 1, got {args.max_points}")
        if not args.duckdb.is_file():
            raise ReportError(f"DuckDB file not found: {args.duckdb}; {BUILD_HINT}")
        with duckdb.connect(str(args.duckdb), read_only=True) as connection:
            try:
                tables = load_tables(connection, args.schema, args.reference_schema)
            except ReportError as error:
                raise ReportError(f"{error} (warehouse: {args.duckdb})") from None
        sections = build_sections(tables, max_points=args.max_points)
        page = render_html(report_facts(tables, str(args.duckdb)), sections)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(page, encoding="utf-8", newline="\n")
    except (ReportError, duckdb.Error, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    figures = sum(section.kind == "figure" for section in sections)
    print(f"wrote {args.out} ({figures} figures, {len(tables.customers):,} customers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
