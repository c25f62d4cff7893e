"""Command line: write one self-contained HTML report of the segmentation from the warehouse.

Example, from the project folder after ``make build``::

    python -m customer_segments.report --duckdb segments.duckdb --out reports/segments.html

The DuckDB file is opened read-only. The report reads ``cluster_k_evaluation``,
``cluster_centroids``, ``dim_customer_segments`` and ``fct_segment_summary`` from ``--schema``
and the ``rfm_segment_grid`` and ``rfm_segments`` seeds from ``--reference-schema``. Every figure
is a PNG embedded as a base64 ``data:`` URI and the CSS is inline, so the file opens offline and
can be mailed as it is. The same warehouse always gives the same bytes: no timestamps, PNG
metadata stripped, samples drawn with a fixed seed.

Each figure is built by a pure function from DataFrames to a matplotlib ``Figure``; figures are
made with ``matplotlib.figure.Figure`` directly (not pyplot), so no backend or global state is
touched and nothing needs closing.

The page is the Jinja2 template ``templates/report.html.j2`` (package data), rendered with
autoescaping on: Python hands it plain values only, never HTML. The page is a header (title and
facts) and a list of sections in page order, each of one of two kinds:

- :class:`FigureSection`: a PNG (see :func:`figure_to_png`) with a title and a caption;
- :class:`TableSection`: columns and rows of text, usually made from a DataFrame by
  :func:`table_section` with one :class:`Column` (field, header, number format) per column. The
  persona table is one (:func:`persona_table`).

:func:`build_sections` lists them. Adding a section is a function that returns sections, called
there; the template needs no change. For example a backtest section, once its marts exist::

    BACKTEST_COLUMNS = (
        Column("persona_name", "Persona"),
        Column("customer_count", "Customers", ",.0f"),
        Column("repeat_rate", "Repeat rate", ".1%"),
        Column("lift_over_base_rate", "Lift over the base rate", ".2f"),
        Column("revenue_per_customer", "Revenue per customer", ",.2f"),
    )

    def backtest_sections(tables: ReportTables) -> list[Section]:
        return [
            table_section("backtest-personas", "Backtest: repeat purchase by persona",
                          tables.backtest_personas, BACKTEST_COLUMNS,
                          caption="Customers as of the cutoff; outcome in the next 90 days."),
            FigureSection("fig-backtest-gains", "Backtest: cumulative gains",
                          "Share of repeat buyers found against share of customers contacted.",
                          figure_to_png(gains_figure(tables.backtest_scores))),
        ]

plus the tables it reads in :data:`REQUIRED_COLUMNS`, ``_ORDER_BY`` and :class:`ReportTables`,
and ``sections += backtest_sections(tables)`` in :func:`build_sections`.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import duckdb
import jinja2
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

__all__ = [
    "FIGURE_IDS",
    "PERSONA_COLUMNS",
    "REQUIRED_COLUMNS",
    "SECTION_KINDS",
    "Column",
    "FigureSection",
    "ReportError",
    "ReportTables",
    "Section",
    "TableSection",
    "build_parser",
    "build_report",
    "build_sections",
    "figure_sections",
    "figure_to_png",
    "k_selection_figure",
    "load_tables",
    "main",
    "persona_colors",
    "persona_order",
    "persona_table",
    "recency_monetary_figure",
    "render_html",
    "rfm_grid_counts",
    "rfm_grid_figure",
    "sample_customers",
    "segment_sizes_figure",
    "snake_plot_figure",
    "snake_plot_values",
    "table_section",
]

PROG = "python -m customer_segments.report"
BUILD_HINT = "run `make build` (or `dbt build`) first"

FIGURE_IDS: tuple[str, ...] = (
    "fig-k-selection",
    "fig-segment-sizes",
    "fig-snake-plot",
    "fig-recency-monetary",
    "fig-rfm-grid",
)

# (schema option, table) -> columns the report uses; other columns are ignored.
REQUIRED_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("schema", "cluster_k_evaluation"): ("k", "inertia", "silhouette", "is_chosen", "reason"),
    ("schema", "cluster_centroids"): ("cluster_id", "persona_key", "customer_count"),
    ("schema", "dim_customer_segments"): (
        "customer_id", "persona_key", "recency_days", "frequency", "monetary",
        "recency_score", "frequency_score", "as_of_date",
    ),
    ("schema", "fct_segment_summary"): (
        "persona_key", "persona_name", "persona_description", "persona_recommended_action",
        "customer_count", "customer_share", "revenue", "revenue_share", "median_recency_days",
        "median_frequency", "median_monetary", "top_rfm_segments",
    ),
    ("reference_schema", "rfm_segment_grid"): (
        "recency_score", "frequency_score", "rfm_segment_key",
    ),
    ("reference_schema", "rfm_segments"): ("rfm_segment_key", "rfm_segment"),
}

# A stable row order per table, so that the figures do not depend on how DuckDB scans.
_ORDER_BY = {
    "cluster_k_evaluation": "k",
    "cluster_centroids": "cluster_id",
    "dim_customer_segments": "customer_id",
    "fct_segment_summary": "persona_key",
    "rfm_segment_grid": "recency_score, frequency_score",
    "rfm_segments": "rfm_segment_key",
}

SNAKE_FEATURES: tuple[tuple[str, str], ...] = (
    ("recency_days", "Recency\n(log days since last)"),
    ("frequency", "Frequency\n(log orders)"),
    ("monetary", "Monetary\n(log net revenue)"),
)

_DPI = 110
_PNG_METADATA = {"Software": None}  # matplotlib's version string would be the only varying chunk

TEMPLATE = "report.html.j2"
SECTION_KINDS: tuple[str, ...] = ("figure", "table")


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


Section = FigureSection | TableSection


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
        Schema of the ``rfm_segment_grid`` and ``rfm_segments`` seeds.

    Returns
    -------
    ReportTables
        All columns of each table, rows in a fixed order.

    Raises
    ------
    ReportError
        If a table or a required column is missing, or a table the report needs is empty,
        naming it and saying how to build it.
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
        frame = connection.sql(f"select * from {qualified} order by {_ORDER_BY[table]}").df()
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ReportError(
                f"table {label} lacks column(s) {', '.join(missing)}; rebuild it: {BUILD_HINT}"
            )
        if frame.empty:
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


def persona_colors(order: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """A colour per persona key, from ``tab10`` (``tab20`` beyond ten personas)."""
    palette = matplotlib.colormaps["tab10" if len(order) <= 10 else "tab20"].colors
    return {key: tuple(palette[i % len(palette)]) for i, key in enumerate(order)}


def _persona_names(summary: pd.DataFrame) -> dict[str, str]:
    return dict(zip(summary["persona_key"].astype(str), summary["persona_name"].astype(str)))


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
        f"chosen k = {chosen_k}", xy=(chosen_k, 1.0), xycoords=("data", "axes fraction"),
        xytext=(4, -14), textcoords="offset points", color="#c0392b", fontweight="bold",
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


def snake_plot_values(customers: pd.DataFrame) -> pd.DataFrame:
    """Mean standardised log recency, frequency and monetary per persona.

    Each of ``log1p(recency_days)``, ``log1p(frequency)`` and ``log1p(max(monetary, 0))`` is
    standardised over all customers (mean 0, population standard deviation 1; a constant
    feature gives 0), then averaged per persona.

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
        ax.plot(x, values.loc[key, [f for f, _ in SNAKE_FEATURES]].to_numpy(), marker="o",
                linewidth=2, color=colors[key], label=names.get(key, key))
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
    so that both log scales are defined. More than ``max_points`` customers are sampled with
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
    shown = sample_customers(customers, max_points, seed)
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
            s=7, alpha=0.5, linewidths=0, color=colors[key], label=names.get(key, key),
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
        ``dim_customer_segments`` with ``recency_score`` and ``frequency_score`` (1-5).
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
    counts = (
        customers.groupby([customers["recency_score"].astype(int),
                           customers["frequency_score"].astype(int)])
        .size()
        .reindex(cells, fill_value=0)
        .rename("customer_count")
        .reset_index()
    )
    seg_names = dict(zip(rfm_segments["rfm_segment_key"].astype(str),
                         rfm_segments["rfm_segment"].astype(str)))
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
            ax.text(j, i, f"{int(matrix[i, j]):,}\n{name}", ha="center", va="center", fontsize=7.5,
                    color="white" if matrix[i, j] > 0.55 * top else "black")
    ax.set_xticks(range(5), labels=[str(f) for f in counts.columns])
    ax.set_yticks(range(5), labels=[str(r) for r in counts.index])
    ax.set_xlabel("frequency score (5 = most orders)")
    ax.set_ylabel("recency score (5 = most recent)")
    ax.set_title("Customers on the classic RFM map (recency x frequency)")
    fig.colorbar(image, ax=ax, shrink=0.8, label="customers")
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
    """Every section of the report in page order: the figures, then the persona table."""
    order = persona_order(tables.summary)
    return [
        *figure_sections(tables, order, max_points=max_points),
        persona_table(tables.summary, tables.centroids, order),
    ]


def figure_sections(
    tables: ReportTables, order: Sequence[str], max_points: int = 20_000
) -> list[FigureSection]:
    """The figures of the segmentation with their titles and captions, in :data:`FIGURE_IDS` order.

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
    n = len(customers)
    shown = min(n, max_points)
    clipped = int((customers["monetary"].astype(float) < 1).sum())
    sample_note = (
        f"All {n:,} customers are drawn." if shown == n
        else f"A reproducible random sample of {shown:,} of the {n:,} customers is drawn."
    )
    specs = [
        ("fig-k-selection", "How many segments: choosing k",
         k_selection_figure(tables.k_evaluation),
         "Inertia (within-cluster sum of squares; lower is tighter) and mean silhouette (higher is "
         f"better separated) for each candidate k; the dashed line marks the chosen k = "
         f"{int(chosen['k'])}. Reason recorded by the model: \u201c{chosen['reason']}\u201d"),
        ("fig-segment-sizes", "Segment sizes: customers vs revenue",
         segment_sizes_figure(tables.summary, order),
         "For each persona, its share of all customers next to its share of total net revenue "
         "(purchases minus returns), from fct_segment_summary."),
        ("fig-snake-plot", "Snake plot of the personas",
         snake_plot_figure(customers, names, order),
         "Computed from dim_customer_segments: log1p(recency_days), log1p(frequency) and "
         "log1p(max(monetary, 0)) are each standardised over all customers (mean 0, sd 1), then "
         "averaged per persona. High recency means the last purchase was long ago."),
        ("fig-recency-monetary", "Recency against net revenue",
         recency_monetary_figure(customers, names, order, max_points=max_points),
         "One dot per customer, coloured by persona; both axes are logarithmic. Net revenue and "
         f"recency below 1 are drawn at 1 ({clipped:,} of {n:,} customers have net revenue "
         f"below 1: zero or negative after returns). {sample_note}"),
        ("fig-rfm-grid", "The classic RFM map",
         rfm_grid_figure(customers, tables.rfm_grid, tables.rfm_segments),
         "Customers per recency score x frequency score cell (quintile scores 1-5), each cell "
         "labelled with its count and the segment the classic RFM map gives it "
         "(rfm_segment_grid and rfm_segments seeds)."),
    ]
    return [FigureSection(fid, title, caption, figure_to_png(fig))
            for fid, title, fig, caption in specs]


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
        rows=tuple(zip(*cells)) if cells else (),
        table_id=table_id,
        caption=caption,
    )


PERSONA_COLUMNS: tuple[Column, ...] = (
    Column("persona_name", "Persona"),
    Column("persona_key", "Key", css_class="key"),
    Column("cluster_id", "Cluster", ".0f"),
    Column("customer_count", "Customers", ",.0f"),
    Column("customer_share", "Share of customers", ".1%"),
    Column("revenue_share", "Share of revenue", ".1%"),
    Column("median_recency_days", "Median recency (days)", "n"),
    Column("median_frequency", "Median orders", "n"),
    Column("median_monetary", "Median net revenue", ",.2f"),
    Column("top_rfm_segments", "Top RFM segments"),
    Column("persona_description", "Description"),
    Column("persona_recommended_action", "Recommended action"),
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
    clusters = dict(zip(centroids["persona_key"].astype(str), centroids["cluster_id"]))
    rows = summary.set_index(summary["persona_key"].astype(str)).loc[order]
    rows = rows.assign(persona_key=order, cluster_id=[clusters.get(key) for key in order])
    return table_section("personas", "Personas", rows, PERSONA_COLUMNS, table_id="persona-table")


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


def build_report(tables: ReportTables, source: str, max_points: int = 20_000) -> str:
    """The whole HTML report for loaded tables; ``source`` is the warehouse path shown in it."""
    customers = tables.customers
    as_of = pd.to_datetime(customers["as_of_date"]).max()
    facts = [
        ("As of", "" if pd.isna(as_of) else as_of.date().isoformat()),
        ("Customers", f"{len(customers):,}"),
        ("Chosen k", str(int(_chosen_row(tables.k_evaluation)["k"]))),
        ("Personas", str(len(tables.summary))),
        ("Generated from", source),
    ]
    return render_html(facts, build_sections(tables, max_points=max_points))


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
    parser.add_argument("--duckdb", required=True, type=Path, metavar="PATH",
                        help="DuckDB warehouse file built by dbt; opened read-only.")
    parser.add_argument("--out", required=True, type=Path, metavar="HTML",
                        help="HTML file to write; its folder is created if needed.")
    parser.add_argument("--schema", default="main", metavar="SCHEMA",
                        help="Schema of the marts and clustering tables (default: %(default)s).")
    parser.add_argument("--reference-schema", default="main_reference", metavar="SCHEMA",
                        help="Schema of the rfm_segment_grid and rfm_segments seeds "
                             "(default: %(default)s).")
    parser.add_argument("--max-points", default=20_000, type=int, metavar="INT",
                        help="Most customers drawn in the scatter plot (default: %(default)s).")
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
        page = build_report(tables, str(args.duckdb), max_points=args.max_points)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(page, encoding="utf-8", newline="\n")
    except (ReportError, duckdb.Error, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(FIGURE_IDS)} figures, {len(tables.customers):,} customers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
