"""The MWAA environment's recorded inputs, as a CreateEnvironment request, against botocore's `mwaa` model.

botocore's validator checks types, required members, list and number bounds; patterns, enums and string lengths
are checked here from the same model, and the values the model types as free strings from MWAA's documentation.
"""

from __future__ import annotations

import json
import regex as re
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from stackconfig import limits

pytestmark = pytest.mark.contract

MODEL = botocore.session.get_session().get_service_model("mwaa")
# Inputs of the Pulumi resource that are not CreateEnvironment parameters.
UPDATE_ONLY = {"workerReplacementStrategy"}
NOT_API = {"region"}


def _api_name(wire: str) -> str:
    return wire[0].upper() + wire[1:]


def to_request(inputs: dict[str, Any], default_tags: dict[str, str]) -> dict[str, Any]:
    def convert(value: Any, shape) -> Any:
        if shape.type_name == "structure":
            return {_api_name(k): convert(v, shape.members[_api_name(k)]) for k, v in value.items()}
        if shape.type_name == "list":
            return [convert(v, shape.member) for v in value]
        return value

    members = MODEL.operation_model("CreateEnvironment").input_shape.members
    request = {}
    for key, value in inputs.items():
        if key in UPDATE_ONLY or key in NOT_API:
            continue
        name = _api_name(key)
        assert name in members, f"{key} is not a CreateEnvironment parameter"
        request[name] = convert(value, members[name])
    request["Tags"] = {**default_tags, **request.get("Tags", {})}  # what the provider sends
    return request


def model_violations(request: dict[str, Any], operation: str = "CreateEnvironment") -> list[str]:
    shape = MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    problems = [report.generate_report()] if report.has_errors() else []

    def walk(value: Any, shape, path: str) -> None:
        meta = shape.metadata
        if shape.type_name == "string":
            if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
                problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
            if getattr(shape, "enum", None) and value not in shape.enum:
                problems.append(f"{path}: {value!r} not in {shape.enum}")
            if not meta.get("min", 0) <= len(value) <= meta.get("max", 10**9):
                problems.append(f"{path}: length {len(value)} outside {meta.get('min')}..{meta.get('max')}")
        elif shape.type_name == "structure":
            for key, item in value.items():
                walk(item, shape.members[key], f"{path}.{key}")
        elif shape.type_name in ("integer", "long"):
            if not meta.get("min", -(10**9)) <= value <= meta.get("max", 10**9):
                problems.append(f"{path}: {value} outside {meta.get('min')}..{meta.get('max')}")
        elif shape.type_name == "list":
            if not meta.get("min", 0) <= len(value) <= meta.get("max", 10**9):
                problems.append(f"{path}: {len(value)} items, outside {meta.get('min')}..{meta.get('max')}")
            for i, item in enumerate(value):
                walk(item, shape.member, f"{path}[{i}]")
        elif shape.type_name == "map":
            for key, item in value.items():
                walk(key, shape.key, f"{path} key")
                walk(item, shape.value, f"{path}[{key}]")

    walk(request, shape, operation)
    return problems


def documented_violations(request: dict[str, Any]) -> list[str]:
    problems = []
    if request.get("EnvironmentClass") not in limits.MWAA_ENVIRONMENT_CLASSES:
        problems.append(f"EnvironmentClass {request.get('EnvironmentClass')}")
    if request.get("AirflowVersion") not in limits.MWAA_AIRFLOW_VERSIONS:
        problems.append(f"AirflowVersion {request.get('AirflowVersion')}")
    for key, value in request.get("AirflowConfigurationOptions", {}).items():
        if not limits.CONFIG_OPTION_KEY.fullmatch(key) or len(key) > 64:
            problems.append(f"option key {key}")
        if len(value) > limits.CONFIG_OPTION_VALUE_MAX or not limits.PRINTABLE_ASCII.fullmatch(value):
            problems.append(f"option value of {key}")
    if request.get("EnvironmentClass") == "mw1.micro":
        sizes = [request.get(k) for k in ("MinWorkers", "MaxWorkers", "Schedulers", "MinWebservers", "MaxWebservers")]
        if sizes != [1] * 5:
            problems.append(f"mw1.micro sizing {sizes}")
    for key, value in request["Tags"].items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            problems.append(f"tag {key}")
    return problems


def _request(plan) -> dict[str, Any]:
    env = plan.one("aws:mwaa/environment:Environment")
    provider = plan.one("pulumi:providers:aws")
    return to_request(env.raw_inputs, json.loads(provider.inputs["defaultTags"])["tags"])


def test_create_environment_request_matches_the_model(managed_plan):
    request = _request(managed_plan)
    assert model_violations(request) == []
    assert documented_violations(request) == []
    assert set(MODEL.operation_model("CreateEnvironment").input_shape.required_members) <= set(request)


def test_update_only_settings_fit_update_environment(prod_managed):
    env = prod_managed.one("aws:mwaa/environment:Environment").raw_inputs
    update = {"Name": env["name"], "WorkerReplacementStrategy": env["workerReplacementStrategy"]}
    assert model_violations(update, "UpdateEnvironment") == []


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda r: r["NetworkConfiguration"]["SubnetIds"].append("subnet-0ccccccccccccccc0"), "SubnetIds"),
        (lambda r: r.update(Name="1-bad-name"), "Name"),
        (lambda r: r.update(WebserverAccessMode="OPEN"), "WebserverAccessMode"),
        (lambda r: r.update(WeeklyMaintenanceWindowStart="SUN:3"), "WeeklyMaintenanceWindowStart"),
        (lambda r: r.update(KmsKey="mrk-123"), "KmsKey"),
    ],
)
def test_the_model_check_catches_bad_requests(dev, change, expected):
    request = json.loads(json.dumps(_request(dev)))
    change(request)
    assert any(expected in problem for problem in model_violations(request))


def test_documented_checks_catch_what_the_model_lets_through(dev):
    request = json.loads(json.dumps(_request(dev)))
    request["EnvironmentClass"] = "mw1.gigantic"
    request["AirflowVersion"] = "2.9.9"
    assert model_violations(request) == []
    assert len(documented_violations(request)) == 2
