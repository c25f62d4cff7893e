"""The Spark runner's plan and its failures, without Spark: a stand-in manifest and dbt.

The real runs on Spark are in ``integration/test_spark_parity.py`` (marked ``spark``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from customer_segments import spark_runner
from customer_segments.dbt_invoke import DbtInvocation
from customer_segments.spark_runner import (
    PythonModelContext,
    StepFailed,
    build_on_spark,
    plan_steps,
    publish_folder,
    run_python_model,
)


def _node(kind: str, name: str, parents: tuple[str, ...] = (), language: str = "sql"):
    return SimpleNamespace(
        unique_id=f"{kind}.p.{name}",
        name=name,
        schema="segments",
        alias=name,
        resource_type=kind,
        language=language,
        depends_on=SimpleNamespace(nodes=list(parents)),
        config=SimpleNamespace(enabled=True, to_dict=lambda: {"materialized": "table"}),
        fqn=["p", name],
        raw_code="",
        original_file_path=f"models/{name}.py",
    )


def _manifest():
    nodes = [
        _node("seed", "codes"),
        _node("model", "lines", ("source.p.raw.lines", "seed.p.codes")),
        _node("model", "fit", ("model.p.lines",), "python"),
        _node("model", "scored", ("model.p.fit", "model.p.lines")),
        _node("model", "refit", ("model.p.scored",), "python"),
        _node("model", "mart", ("model.p.refit",)),
        _node("model", "other_fit", ("seed.p.codes",), "python"),
        _node("test", "lines_unique", ("model.p.lines",)),
        _node("test", "fit_unique", ("model.p.fit",)),
        _node("test", "fit_covers_lines", ("model.p.fit", "model.p.lines")),
        _node("test", "mart_not_null", ("model.p.mart",)),
    ]
    unit_tests = [_node("unit_test", "lines_rules", ("model.p.lines", "seed.p.codes"))]
    return SimpleNamespace(
        nodes={node.unique_id: node for node in nodes},
        unit_tests={node.unique_id: node for node in unit_tests},
    )


def _names(steps) -> list[tuple[str, list[str]]]:
    return [(step.kind, sorted(node.name for node in step.nodes)) for step in steps]


def test_python_models_run_between_dbt_steps_and_their_tests_right_after():
    assert _names(plan_steps(_manifest())) == [
        ("dbt", ["codes", "lines", "lines_unique"]),
        ("python", ["fit"]),
        ("python", ["other_fit"]),
        ("dbt", ["fit_covers_lines", "fit_unique", "scored"]),
        ("python", ["refit"]),
        ("dbt", ["mart", "mart_not_null"]),
    ]


def test_unit_tests_run_with_their_model_when_asked():
    first = plan_steps(_manifest(), unit_tests=True)[0]
    assert sorted(node.name for node in first.nodes) == [
        "codes",
        "lines",
        "lines_rules",
        "lines_unique",
    ]
    assert first.name == "dbt build (1 seed, 1 model, 1 data test, 1 unit test)"


def test_a_node_that_can_never_run_is_named():
    manifest = _manifest()
    # A cycle through a Python model: `lines` now reads `refit`, which depends on `lines`.
    manifest.nodes["model.p.lines"].depends_on.nodes.append("model.p.refit")
    with pytest.raises(ValueError, match=r"can never run: .*lines"):
        plan_steps(manifest)


def _fake_dbt(fail_at: int | None, calls: list):
    def invoke(args, **_):
        calls.append(args)
        if args[0] == "build" and len(calls) == fail_at:
            failed = SimpleNamespace(
                node=SimpleNamespace(resource_type="test", name="fit_unique"),
                status="fail",
                message="Got 2 results, configured to fail if != 0",
            )
            return DbtInvocation(False, SimpleNamespace(results=[failed]))
        return DbtInvocation(True, SimpleNamespace(results=[]))

    return invoke


def test_a_failed_dbt_step_stops_the_job_and_publishes_nothing(monkeypatch, tmp_path, capsys):
    calls: list = []
    exported: list = []
    monkeypatch.setattr(spark_runner, "invoke_dbt", _fake_dbt(2, calls))
    monkeypatch.setattr(spark_runner, "_spark_session", lambda _: object())
    monkeypatch.setattr(spark_runner, "_run_python_step", lambda *_: 3)
    monkeypatch.setattr(spark_runner, "_write_exports", lambda *a: exported.append(a) or (1, 1))
    with pytest.raises(StepFailed) as failed:
        build_on_spark(manifest=_manifest(), exports=tmp_path / "exports")
    assert failed.value.step == "dbt build (1 model, 2 data tests)"
    assert "test fit_unique (fail: Got 2 results" in str(failed.value)
    assert exported == []
    # The dbt step lists its nodes by fully qualified name, tests only when listed.
    build = calls[1]
    assert build[:2] == ["build", "--select"]
    assert "fqn:p.fit_unique" in build and "fqn:p.mart" not in build
    assert build[build.index("--indirect-selection") + 1] == "empty"


def test_a_failed_python_model_is_named_and_the_command_exits_1(monkeypatch, tmp_path, capsys):
    def broken(session, node, relations):
        raise ValueError("fewer than 50 customers to cluster")

    monkeypatch.setattr(spark_runner, "missing_spark_requirements", lambda: [])
    monkeypatch.setattr(spark_runner, "_spark_session", lambda _: object())
    monkeypatch.setattr(spark_runner, "_run_python_step", broken)
    monkeypatch.setattr(spark_runner, "_write_exports", lambda *a: pytest.fail("exported"))
    # `parse` hands over the manifest; every dbt build succeeds.
    parsed = DbtInvocation(True, _manifest())
    monkeypatch.setattr(spark_runner, "invoke_dbt", lambda args, **kw: parsed)
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "kept.parquet").write_text("the previous build's")
    assert spark_runner.main(["--exports", str(exports)]) == 1
    message = capsys.readouterr().err
    assert "step 'python model fit' failed: ValueError: fewer than 50 customers" in message
    assert f"{exports} is unchanged" in message
    assert [path.name for path in exports.iterdir()] == ["kept.parquet"]


def test_a_python_model_reads_its_refs_and_config():
    code = (
        "def model(dbt, session):\n"
        "    dbt.config(materialized='table')\n"
        "    frame = dbt.ref('lines').df()\n"
        "    return frame.assign(k=dbt.config.get('k', 0), this=dbt.this)\n"
    )
    reads = []

    def read(name):
        reads.append(name)
        return pd.DataFrame({"x": [1, 2]})

    context = PythonModelContext(read, {"k": 4}, "segments.fit")
    frame = run_python_model(code, "models/fit.py", context)
    assert reads == ["lines"]
    assert frame.to_dict("list") == {"x": [1, 2], "k": [4, 4], "this": ["segments.fit"] * 2}
    with pytest.raises(TypeError, match="not a pandas DataFrame"):
        run_python_model("def model(dbt, session):\n    return 1\n", "m.py", context)


def test_the_exports_folder_is_replaced_whole(tmp_path: Path):
    final, partial = tmp_path / "exports", tmp_path / ".exports.partial"
    final.mkdir()
    (final / "old.parquet").write_text("old")
    partial.mkdir()
    (partial / "new.parquet").write_text("new")
    publish_folder(partial, final)
    assert [path.name for path in final.iterdir()] == ["new.parquet"]
    assert not partial.exists()
    assert [path.name for path in tmp_path.iterdir()] == ["exports"]


def test_a_machine_without_the_spark_extra_or_java_is_told_what_to_install(monkeypatch, capsys):
    def nothing_installed(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(spark_runner.importlib.util, "find_spec", nothing_installed)
    monkeypatch.setattr(spark_runner.shutil, "which", lambda _: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark_runner, "invoke_dbt", lambda *a, **kw: pytest.fail("dbt ran"))
    assert spark_runner.main(["--no-exports"]) == 1
    message = capsys.readouterr().err
    assert message.startswith("spark build not started: this machine lacks ")
    assert "dbt-spark[session]" in message and "make spark-install" in message
    assert "pyspark" in message and "openjdk-17-jre-headless" in message


def test_a_package_that_is_not_found_is_missing_too(monkeypatch):
    monkeypatch.setattr(
        spark_runner.importlib.util, "find_spec", lambda name: None if name == "pyspark" else 1
    )
    monkeypatch.setattr(spark_runner.shutil, "which", lambda _: "/usr/bin/java")
    assert [item.split(" (")[0] for item in spark_runner.missing_spark_requirements()] == [
        "the Python package pyspark"
    ]


def test_java_home_stands_for_java_on_the_path(monkeypatch):
    monkeypatch.setattr(spark_runner.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(spark_runner.shutil, "which", lambda _: None)
    monkeypatch.setenv("JAVA_HOME", "/opt/java")
    assert spark_runner.missing_spark_requirements() == []
    monkeypatch.delenv("JAVA_HOME")
    assert [item.split(" (")[0] for item in spark_runner.missing_spark_requirements()] == [
        "Java 17"
    ]
