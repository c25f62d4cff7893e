"""The project's metadata keeps its promises: what BI tools read has a contract, every model has a
key test and an owner, and every model, column and macro is described (checked on the manifest,
without a build)."""

from __future__ import annotations

import pytest

from .conftest import project_manifest

KEY_TESTS = {"unique", "unique_combination_of_columns", "row_count_is"}

pytestmark = pytest.mark.dbt_unit  # no build: part of the fast lane


def _models():
    return {
        uid: node for uid, node in project_manifest().nodes.items() if node.resource_type == "model"
    }


def test_every_model_an_exposure_reads_has_an_enforced_contract():
    manifest = project_manifest()
    models = _models()
    read = {
        uid
        for exposure in manifest.exposures.values()
        for uid in exposure.depends_on.nodes
        if uid in models
    }
    assert len(read) >= 15
    missing = sorted(models[uid].name for uid in read if not models[uid].contract.enforced)
    assert not missing, missing


def test_every_model_has_a_key_test():
    manifest = project_manifest()
    keyed = set()
    for node in manifest.nodes.values():
        metadata = getattr(node, "test_metadata", None)
        if node.resource_type == "test" and metadata and metadata.name in KEY_TESTS:
            keyed.update(node.depends_on.nodes)
    missing = sorted(node.name for uid, node in _models().items() if uid not in keyed)
    assert not missing, missing


def test_every_model_has_an_owner_and_a_description():
    for node in _models().values():
        assert node.config.meta.get("owner"), node.name
        assert node.description.strip(), node.name


def test_every_project_macro_is_described():
    macros = [
        m for m in project_manifest().macros.values() if m.package_name == "customer_segments"
    ]
    assert len(macros) > 20
    undocumented = sorted(m.name for m in macros if not m.description.strip())
    assert not undocumented, undocumented
