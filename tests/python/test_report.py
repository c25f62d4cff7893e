"""The HTML report command and its figure functions, on a small synthetic warehouse."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from customer_segments.report import (
    FIGURE_IDS,
    PERSONA_COLUMNS,
    Column,
    FigureSection,
    TableSection,
    k_selection_figure,
    load_tables,
    main,
    persona_table,
    recency_monetary_figure,
    render_html,
    rfm_grid_counts,
    sample_customers,
    segment_sizes_figure,
    snake_plot_values,
    table_section,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
AS_OF = pd.Timestamp("2011-12-10")
TRICKY_DESCRIPTION = "Spend < 50 a basket & return half of it"
TRICKY_NAME = "Bargain & bulk <buyers>"

# persona: (name, description, action, recency range, orders range, log-money mean, cluster_id)
PERSONAS = {
    "high_value": ("High-value customers", "Recent, frequent big spenders.",
                   "Keep them close: account manager.", (0, 25), (10, 40), 8.5, 0),
    "at_risk": ("At-risk customers", "Once-frequent customers who stopped coming.",
                "Win them back now.", (150, 300), (4, 12), 7.4, 3),
    "bargain": (TRICKY_NAME, TRICKY_DESCRIPTION, "Bundle offers only; no \"free\" shipping.",
                (40, 120), (2, 4), 5.0, 2),
    "new": ("New customers", "First purchase made recently.", "Onboard: welcome series.",
            (0, 30), (1, 2), 5.8, 1),
}


def quintile_score(values: pd.Series) -> pd.Series:
    """Scores 1-5 by quintile of rank, 5 for the highest value."""
    return pd.qcut(values.rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)


def synthetic_customers(n_per: int = 125, seed: int = 3) -> pd.DataFrame:
    """``dim_customer_segments`` for four planted personas, with zero and negative net revenue."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, (key, (name, description, action, recency, orders, log_money, cluster)) in enumerate(
        PERSONAS.items()
    ):
        recency_days = rng.integers(*recency, n_per)
        frequency = rng.integers(orders[0], orders[1] + 1, n_per)
        gross = np.round(np.exp(rng.normal(log_money, 0.6, n_per)), 2)
        returned = np.where(rng.random(n_per) < 0.1, gross * rng.uniform(0.2, 0.9, n_per), 0.0)
        frames.append(pd.DataFrame({
            "customer_id": 12346 + i * n_per + np.arange(n_per),
            "country": "United Kingdom",
            "persona_key": key,
            "persona_name": name,
            "persona_description": description,
            "persona_recommended_action": action,
            "cluster_id": cluster,
            "distance_to_centroid": rng.uniform(0.1, 2.0, n_per),
            "margin_to_next_centroid": rng.uniform(0.0, 1.5, n_per),
            "recency_days": recency_days,
            "tenure_days": recency_days + rng.integers(0, 300, n_per),
            "frequency": frequency,
            "monetary": np.round(gross - returned, 2),
            "gross_revenue": gross,
            "returned_revenue": np.round(returned, 2),
            "average_order_value": np.round(gross / frequency, 2),
        }))
    customers = pd.concat(frames, ignore_index=True)
    # Exact edge cases: nothing left after returns, and more returned than bought.
    customers.loc[0, "monetary"] = 0.0
    customers.loc[1, "monetary"] = -35.5
    customers["recency_score"] = quintile_score(-customers["recency_days"])
    customers["frequency_score"] = quintile_score(customers["frequency"])
    customers["monetary_score"] = quintile_score(customers["monetary"])
    grid = pd.read_csv(SEEDS / "rfm_segment_grid.csv")
    segments = pd.read_csv(SEEDS / "rfm_segments.csv")
    customers = customers.merge(grid, on=["recency_score", "frequency_score"], how="left").merge(
        segments[["rfm_segment_key", "rfm_segment"]], on="rfm_segment_key", how="left"
    )
    customers["rfm_score"] = (customers["recency_score"].astype(str)
                              + customers["frequency_score"].astype(str)
                              + customers["monetary_score"].astype(str))
    customers["first_purchase_date"] = AS_OF - pd.to_timedelta(customers["tenure_days"], unit="D")
    customers["last_purchase_date"] = AS_OF - pd.to_timedelta(customers["recency_days"], unit="D")
    customers["as_of_date"] = AS_OF
    return customers


def k_evaluation(chosen: int = 4) -> pd.DataFrame:
    """An evaluation table for k = 2..10 shaped like the clustering step's, with extra columns."""
    k = np.arange(2, 11)
    silhouette = [0.49, 0.53, 0.47, 0.44, 0.42, 0.41, 0.39, 0.38, 0.31]
    return pd.DataFrame({
        "k": k,
        "n_customers_evaluated": 500,
        "inertia": 8000.0 / k ** 0.9,
        "silhouette": silhouette,
        "davies_bouldin": np.linspace(0.9, 1.1, len(k)),
        "calinski_harabasz": np.linspace(5000, 4700, len(k)),
        "votes": [2 if v == chosen else 0 for v in k],
        "is_chosen": k == chosen,
        "reason": [f"chosen by the rule: k={v}: elbow & Calinski-Harabasz vote <2 of 4>"
                   if v == chosen else "not chosen: 0 vote(s)" for v in k],
    })


def segment_tables(customers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``fct_segment_summary`` and ``cluster_centroids`` computed from the customers."""
    grouped = customers.groupby("persona_key", sort=True)
    summary = grouped.agg(
        persona_name=("persona_name", "first"),
        persona_description=("persona_description", "first"),
        persona_recommended_action=("persona_recommended_action", "first"),
        customer_count=("customer_id", "size"),
        revenue=("monetary", "sum"),
        median_recency_days=("recency_days", "median"),
        mean_recency_days=("recency_days", "mean"),
        median_frequency=("frequency", "median"),
        mean_frequency=("frequency", "mean"),
        median_monetary=("monetary", "median"),
        mean_monetary=("monetary", "mean"),
        average_order_value=("average_order_value", "mean"),
        top_rfm_segments=("rfm_segment", lambda s: ", ".join(s.value_counts().index[:3])),
    ).reset_index()
    summary["customer_share"] = summary["customer_count"] / len(customers)
    summary["revenue_share"] = summary["revenue"] / summary["revenue"].sum()
    centroids = grouped.agg(
        cluster_id=("cluster_id", "first"),
        customer_count=("customer_id", "size"),
        recency_days=("recency_days", "mean"),
        frequency=("frequency", "mean"),
        monetary=("monetary", "mean"),
        tenure_days=("tenure_days", "mean"),
    ).reset_index()
    centroids["customer_share"] = centroids["customer_count"] / len(customers)
    for column in ["recency", "frequency", "monetary", "tenure"]:
        centroids[f"{column}_z"] = np.linspace(-1, 1, len(centroids))
    return summary, centroids


def make_warehouse(path: Path) -> Path:
    """A DuckDB file holding every table the report reads, typed like the dbt marts."""
    customers = synthetic_customers()
    summary, centroids = segment_tables(customers)
    frames = {
        "main.cluster_k_evaluation": k_evaluation(),
        "main.cluster_centroids": centroids,
        "main.fct_segment_summary": summary,
        "main_reference.rfm_segment_grid": pd.read_csv(SEEDS / "rfm_segment_grid.csv"),
        "main_reference.rfm_segments": pd.read_csv(SEEDS / "rfm_segments.csv"),
    }
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema main_reference")
        for name, frame in frames.items():
            connection.register("frame", frame)
            connection.execute(f"create table {path.stem}.{name} as select * from frame")
            connection.unregister("frame")
        connection.register("frame", customers)
        connection.execute(
            f"""
            create table {path.stem}.main.dim_customer_segments as
            select
                * replace (
                    monetary::decimal(18, 2) as monetary,
                    gross_revenue::decimal(18, 2) as gross_revenue,
                    first_purchase_date::date as first_purchase_date,
                    last_purchase_date::date as last_purchase_date,
                    as_of_date::date as as_of_date
                )
            from frame
            """
        )
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("warehouse") / "segments.duckdb")


@pytest.fixture(scope="module")
def report(warehouse: Path, tmp_path_factory) -> tuple[Path, str]:
    out_dir = tmp_path_factory.mktemp("report") / "reports"
    out = out_dir / "segments.html"
    assert main(["--duckdb", str(warehouse), "--out", str(out)]) == 0
    return out, out.read_text(encoding="utf-8")


@pytest.fixture()
def tables(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return load_tables(connection)


def test_help_lists_the_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ["--duckdb", "--out", "--schema", "--reference-schema", "--max-points"]:
        assert option in out


def test_writes_one_html_file_with_every_figure_and_the_persona_table(report):
    out, page = report
    assert [p.name for p in out.parent.iterdir()] == ["segments.html"]
    assert page.startswith("<!DOCTYPE html>")
    for figure_id in FIGURE_IDS:
        assert page.count(f'<figure id="{figure_id}">') == 1
    assert page.count('<table id="persona-table">') == 1
    table = page.split('<table id="persona-table">')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + len(PERSONAS)  # header row + one per persona
    # Rows (like every legend) run from the largest net revenue down.
    keys = re.findall(r'<td class="key">([^<]*)</td>', table)
    assert keys[0] == "high_value" and sorted(keys) == sorted(PERSONAS)
    revenue = synthetic_customers().groupby("persona_key")["monetary"].sum()
    assert keys == revenue.sort_values(ascending=False).index.tolist()


def test_every_image_is_an_embedded_png(report):
    _, page = report
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) == len(FIGURE_IDS)
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        png = base64.b64decode(source.removeprefix("data:image/png;base64,"), validate=True)
        assert png.startswith(PNG_MAGIC)
        assert b"Software" not in png  # no matplotlib version chunk


def test_nothing_is_fetched_from_anywhere(report):
    _, page = report
    lowered = page.lower()
    for forbidden in ["http://", "https://", "<script", "<link", "@import", "url("]:
        assert forbidden not in lowered
    # The only links are to anchors of the page itself.
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") and f'id="{h[1:]}"' in page for h in hrefs)


def test_persona_texts_appear_escaped(report):
    _, page = report
    assert "Spend &lt; 50 a basket &amp; return half of it" in page
    assert TRICKY_DESCRIPTION not in page
    assert "Bargain &amp; bulk &lt;buyers&gt;" in page
    assert "<buyers>" not in page
    # Jinja2's autoescape (MarkupSafe) writes a double quote as &#34;.
    assert "<td>Bundle offers only; no &#34;free&#34; shipping.</td>" in page
    assert 'no "free" shipping' not in page
    for _, (name, _, action, *_) in PERSONAS.items():
        if name != TRICKY_NAME:
            assert f"<td>{name}</td>" in page
            assert action in page


def test_header_and_captions_carry_the_warehouse_facts(report, warehouse):
    _, page = report
    assert "<dt>As of</dt><dd>2011-12-10</dd>" in page
    assert "<dt>Customers</dt><dd>500</dd>" in page
    assert "<dt>Chosen k</dt><dd>4</dd>" in page
    assert f"<dd>{warehouse}</dd>" in page
    # The chosen k's reason is quoted in the caption, escaped.
    assert "elbow &amp; Calinski-Harabasz vote &lt;2 of 4&gt;" in page
    # The two planted customers with net revenue at or below zero are the only ones drawn at 1.
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        below = connection.execute(
            "select count(*) from segments.main.dim_customer_segments where monetary < 1"
        ).fetchall()[0][0]
    assert below == 2
    assert "(2 of 500 customers have net revenue below 1" in page


def test_same_warehouse_gives_identical_bytes_and_is_left_untouched(warehouse, report, tmp_path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    again = tmp_path / "again.html"
    assert main(["--duckdb", str(warehouse), "--out", str(again)]) == 0
    assert again.read_bytes() == report[0].read_bytes()
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    "table", ["main.fct_segment_summary", "main.cluster_k_evaluation",
              "main_reference.rfm_segment_grid"]
)
def test_a_missing_table_is_named(warehouse, tmp_path, capsys, table):
    copy = tmp_path / "segments.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute(f"drop table segments.{table}")
    out = tmp_path / "report.html"
    assert main(["--duckdb", str(copy), "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert f"table {table} not found" in error
    assert "make build" in error and "dbt build" in error
    assert not out.exists()


def test_a_missing_column_is_named(warehouse, tmp_path, capsys):
    copy = tmp_path / "segments.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("alter table segments.main.cluster_k_evaluation drop column reason")
    assert main(["--duckdb", str(copy), "--out", str(tmp_path / "r.html")]) == 1
    assert "main.cluster_k_evaluation lacks column(s) reason" in capsys.readouterr().err


def test_a_missing_file_says_to_build_first(tmp_path, capsys):
    missing = tmp_path / "nowhere.duckdb"
    assert main(["--duckdb", str(missing), "--out", str(tmp_path / "r.html")]) == 1
    error = capsys.readouterr().err
    assert f"DuckDB file not found: {missing}" in error
    assert "make build" in error
    assert not missing.exists()  # read-only: no empty warehouse left behind


def test_snake_plot_values_standardise_over_all_customers(tables):
    customers = tables.customers
    values = snake_plot_values(customers)
    assert sorted(values.index) == sorted(PERSONAS)
    # Standardised over all customers: the count-weighted mean of the persona means is 0.
    counts = customers["persona_key"].value_counts().reindex(values.index)
    weighted = values.mul(counts, axis=0).sum() / counts.sum()
    np.testing.assert_allclose(weighted.to_numpy(), 0.0, atol=1e-12)
    assert values["monetary"].idxmax() == "high_value"
    assert values["frequency"].idxmax() == "high_value"
    assert values["recency_days"].idxmax() == "at_risk"
    # One persona's mean by hand.
    logs = np.log1p(customers["monetary"].astype(float).clip(lower=0))
    z = (logs - logs.mean()) / logs.std(ddof=0)
    expected = z[customers["persona_key"] == "new"].mean()
    assert values.loc["new", "monetary"] == pytest.approx(expected)


def test_snake_plot_treats_negative_net_revenue_as_zero():
    frame = pd.DataFrame({
        "persona_key": ["a", "b", "c"],
        "recency_days": [1, 10, 100],
        "frequency": [1, 2, 3],
        "monetary": [-50.0, 0.0, 100.0],
    })
    values = snake_plot_values(frame)
    assert values.loc["a", "monetary"] == pytest.approx(values.loc["b", "monetary"])
    assert values.loc["c", "monetary"] > 0


def test_rfm_grid_counts_cover_the_25_cells(tables):
    cells = rfm_grid_counts(tables.customers, tables.rfm_grid, tables.rfm_segments)
    assert len(cells) == 25
    assert cells["customer_count"].sum() == len(tables.customers)
    customers = tables.customers
    by_hand = ((customers["recency_score"] == 5) & (customers["frequency_score"] == 5)).sum()
    cell = cells.set_index(["recency_score", "frequency_score"])
    assert cell.loc[(5, 5), "customer_count"] == by_hand
    assert cell.loc[(5, 5), "rfm_segment"] == "Champions"
    assert cell.loc[(1, 1), "rfm_segment"] == "Lost"
    assert cell.loc[(1, 5), "rfm_segment"] == "Can't Lose Them"


def test_k_selection_figure_marks_the_chosen_k():
    fig = k_selection_figure(k_evaluation(chosen=6).sample(frac=1.0, random_state=1))
    axes = fig.get_axes()
    assert len(axes) == 2
    for ax in axes:
        curve, marker = ax.get_lines()
        assert list(marker.get_xdata()) == [6, 6]  # a vertical line at the chosen k
        assert list(curve.get_xdata()) == list(range(2, 11))  # sorted by k
    assert any(t.get_text() == "chosen k = 6" for t in axes[0].texts)


def test_segment_sizes_bars_are_the_shares(tables):
    summary = tables.summary
    order = ["new", "high_value", "bargain", "at_risk"]
    ax = segment_sizes_figure(summary, order).get_axes()[0]
    widths = [patch.get_width() for patch in ax.patches]
    shares = summary.set_index("persona_key").loc[order]
    np.testing.assert_allclose(widths[:4], shares["customer_share"].to_numpy())
    np.testing.assert_allclose(widths[4:], shares["revenue_share"].to_numpy())
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert labels == shares["persona_name"].tolist()


def test_scatter_samples_reproducibly_and_clips_to_one(tables):
    customers = tables.customers
    names = dict(zip(tables.summary["persona_key"], tables.summary["persona_name"]))
    sample = sample_customers(customers, 100, seed=0)
    shuffled = sample_customers(customers.sample(frac=1.0, random_state=7), 100, seed=0)
    assert len(sample) == 100
    assert sample["customer_id"].tolist() == shuffled["customer_id"].tolist()
    ax = recency_monetary_figure(customers, names, max_points=100).get_axes()[0]
    points = np.vstack([c.get_offsets() for c in ax.collections])
    assert len(points) == 100
    full = np.vstack([c.get_offsets() for c in
                      recency_monetary_figure(customers, names).get_axes()[0].collections])
    assert len(full) == len(customers)
    assert full[:, 1].min() == 1.0  # the zero and negative net revenues, drawn at 1
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == set(names.values())


def test_table_section_formats_each_column_in_frame_order():
    frame = pd.DataFrame({
        "name": ["b <x>", None, "a"],
        "count": [1234, 5, np.nan],
        "rate": [0.1234, 1.0, 0.5],
        "extra": [1, 2, 3],
    })
    columns = [Column("name", "Name"), Column("count", "Count", ",.0f"),
               Column("rate", "Rate", ".1%"), Column("name", "Key", css_class="key")]
    section = table_section("t", "T", frame, columns)
    assert section.rows == (
        ("b <x>", "1,234", "12.3%", "b <x>"),  # plain text: escaping is the template's job
        ("", "5", "100.0%", ""),  # missing text and numbers are empty cells
        ("a", "", "50.0%", "a"),
    )
    assert [c.cell_class for c in section.columns] == ["", "num", "num", "key"]
    with pytest.raises(KeyError, match="lacks column.s. nope"):
        table_section("t", "T", frame, [Column("nope", "Nope")])
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        TableSection("t", "T", tuple(columns[:2]), (("a", "b"), ("c",)))


def test_persona_table_follows_the_order_and_leaves_a_missing_cluster_empty(tables):
    order = ["new", "at_risk", "high_value", "bargain"]
    centroids = tables.centroids.loc[tables.centroids["persona_key"] != "at_risk"]
    section = persona_table(tables.summary, centroids, order)
    assert (section.section_id, section.table_id) == ("personas", "persona-table")
    assert section.columns == PERSONA_COLUMNS
    keys = [row[1] for row in section.rows]
    assert keys == order
    clusters = {row[1]: row[2] for row in section.rows}
    assert clusters == {"new": "1", "at_risk": "", "high_value": "0", "bargain": "2"}


def test_a_new_section_is_one_more_item_of_the_list():
    # What adding a backtest or history section amounts to: more sections, no template change.
    png = FigureSection("fig-a", "A", "caption <a>", PNG_MAGIC)
    table = table_section(
        "history-psi", "PSI & drift", pd.DataFrame({"month": ["2011-11"], "psi": [0.123]}),
        [Column("month", "Month <m>"), Column("psi", "PSI", ".2f")],
        caption="Above 0.2 = shifted", table_id="psi-table",
    )
    page = render_html([("Label & co", "<v>")], [table, png], title="T <1>")
    assert "<title>T &lt;1&gt;</title>" in page
    assert "<dt>Label &amp; co</dt><dd>&lt;v&gt;</dd>" in page
    # In the given order, in the contents list and in the page.
    assert re.findall(r'<li><a href="#([^"]*)">', page) == ["history-psi", "fig-a"]
    assert page.index('<section id="history-psi">') < page.index('<figure id="fig-a">')
    assert "<h2>PSI &amp; drift</h2>" in page
    assert '<table id="psi-table">' in page
    assert "<thead><tr><th>Month &lt;m&gt;</th><th>PSI</th></tr></thead>" in page
    assert '<tr><td>2011-11</td><td class="num">0.12</td></tr>' in page
    assert '<p class="caption">Above 0.2 = shifted</p>' in page
    assert '<figcaption>caption &lt;a&gt;</figcaption>' in page
    encoded = base64.b64encode(PNG_MAGIC).decode("ascii")
    assert f'<img src="data:image/png;base64,{encoded}" alt="A">' in page


def test_sections_need_unique_ids_and_a_known_kind():
    figure = FigureSection("same", "A", "", PNG_MAGIC)
    table = TableSection("same", "B", (Column("x", "X"),), (("1",),))
    with pytest.raises(ValueError, match="used twice: same"):
        render_html([], [figure, table])

    class Chart(FigureSection):
        kind = "chart"

    with pytest.raises(ValueError, match="unknown section kind.s.: chart"):
        render_html([], [Chart("c", "C", "", PNG_MAGIC)])
