"""Every config key: declared in Pulumi.yaml, validated by the model, described, and in the generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from stackconfig.settings import Settings

pytestmark = pytest.mark.contract

PROJECT = Path(__file__).resolve().parents[2]
INTERNAL = {"stack", "project", "region", "secret_keys"}


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if not prefix and name in INTERNAL:
            continue
        key = f"{prefix}{field.alias or name}"
        keys.append(key)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            keys += _keys(field.annotation, f"{key}.")
    return keys


def test_every_top_level_key_is_declared_in_pulumi_yaml():
    declared = yaml.safe_load((PROJECT / "Pulumi.yaml").read_text())["config"]
    top = [k for k in _keys(Settings) if "." not in k]
    assert sorted(declared) == sorted(top)
    for key, declaration in declared.items():
        assert declaration.get("description"), key
        if "type" in declaration:
            # Pulumi's project schema types only these; objects are declared without a type.
            assert declaration["type"] in ("string", "integer", "boolean", "array"), key
            assert "default" in declaration, key


def test_every_key_has_a_description_and_a_row_in_the_generated_reference():
    from stackconfig.reference import rows

    described = {key: description for key, _, _, description in rows()}
    assert sorted(described) == sorted(_keys(Settings))
    assert [key for key, description in described.items() if not description] == []


def test_the_committed_reference_is_what_the_model_says():
    """docs/configuration.md is generated (make docs): a default or rule changed in the model without it fails here."""
    from stackconfig.reference import REFERENCE, render

    assert REFERENCE.read_text() == render(), "docs/configuration.md is stale: run `make docs` and commit it"


def test_the_reference_shows_the_models_defaults():
    from stackconfig.reference import rows

    shown = {key: default for key, _, default, _ in rows()}
    assert shown["network.cidr"] == "`10.0.0.0/16`" and shown["mwaa.environmentClass"] == "`mw1.small`"
    assert shown["workloads.scheduler"] == '`{"cpu": "1", "memory": "2Gi"}`' and shown["protectData"] == "`true`"
    assert shown["database.multiAz"] == "`protectData`"  # derived: the field's `Unset:` text


def test_stack_files_are_commented_templates():
    for stack in ("dev", "prod"):
        text = (PROJECT / f"Pulumi.{stack}.yaml").read_text()
        assert text.lstrip().startswith("#")
        assert "secure:" not in text  # secrets are set with --secret by whoever deploys, never shipped


def test_the_version_key_lists_what_is_offered():
    """airflow.version's description names MWAA's versions and the image's offered ones: tied to the facts."""
    from stackconfig import limits
    from stackconfig.airflow import AirflowSettings
    from stackconfig.project_files import offered_image_versions

    description = " ".join(AirflowSettings.model_fields["version"].description.split())
    assert ", ".join(limits.MWAA_AIRFLOW_VERSIONS) in description
    assert ", ".join(offered_image_versions()) in description
    assert all(f"{v} (" in description for v in limits.DEFAULT_AIRFLOW_VERSION.values())
