"""Runs the real `__main__.py` for a real stack file under Pulumi's mock engine and records what it registers."""

from __future__ import annotations

import asyncio
import logging
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack

from offline.mocks import CALLER_ARN, AwsMocks
from stackconfig.stack_files import read_stack_config

from stackconfig.project_files import PROJECT_DIR
SECRET = "[secret]"
UNKNOWN = "[unknown]"


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: Optional[str]
    custom: bool
    provider: Optional[str]
    # Package -> provider reference, as remote components (pulumi-eks) receive them.
    providers: dict[str, str]
    inputs: dict[str, Any]  # wire names; secrets masked
    raw_inputs: dict[str, Any]  # wire names; secrets unwrapped, for tests only, never printed
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    state: dict[str, Any] = field(default_factory=dict)  # what the mocks answered; for tests, never printed
    transforms: list = field(default_factory=list)  # the resource's transforms (callables), for tests
    ignore_changes: list[str] = field(default_factory=list)  # the properties `pulumi up` leaves as they are
    # Input -> the URNs its value comes from, as the engine hands them to a policy pack's analyzer.
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    id: Optional[str] = None  # the mocked provider id

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "inputs": self.inputs,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "dependencies": self.dependencies,
        }


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # secrets masked
    raw_outputs: dict[str, Any] = field(default_factory=dict)
    error: Optional[BaseException] = None
    warnings: list[str] = field(default_factory=list)  # what the program logged as warnings (pulumi.log.warn)

    def of_type(self, typ: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> RecordedResource:
        found = self.of_type(typ)
        if len(found) != 1:
            raise AssertionError(f"expected one {typ}, found {len(found)}")
        return found[0]

    def named(self, name: str) -> RecordedResource:
        return next(r for r in self.resources if r.name == name)

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    @property
    def created(self) -> list[RecordedResource]:
        """Everything but the stack itself, which the engine registers before the program runs."""
        return [r for r in self.resources if r.type != "pulumi:pulumi:Stack"]

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.recorded: dict[str, RecordedResource] = {}
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        wire = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        if _has_resource_reference(wire):
            # The mock monitor would rehydrate a reference (eks.ManagedNodeGroup's `cluster`) on its worker
            # thread's event loop, which outlives this run and deadlocks the next one: pass the URN instead.
            request = _with_object(request, _references_as_urns(wire))
        response = super().RegisterResource(request)
        self.recorded[response.urn] = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            provider=request.provider or None,
            providers=dict(request.providers),
            inputs=_masked(wire),
            raw_inputs=_unwrapped(wire),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            dependencies=sorted(set(request.dependencies)),
            ignore_changes=list(request.ignoreChanges),
            property_dependencies={key: sorted(deps.urns) for key, deps in request.propertyDependencies.items()},
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            wire = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
            self.stack_outputs = wire
        return super().RegisterResourceOutputs(request)


def run_stack(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    config: Optional[Mapping[str, Any]] = None,
    secret_config: Optional[Mapping[str, Any]] = None,
    remove: tuple[str, ...] = (),
    subnets: Optional[Mapping[str, Mapping[str, str]]] = None,
    caller_arn: str = CALLER_ARN,
    clusters: tuple[str, ...] = (),
    databases: Optional[Mapping[str, str]] = None,
    preview_changing: tuple[str, ...] = (),
    missing_policies: tuple[str, ...] = (),
    parameters: Optional[Mapping[str, str]] = None,
) -> Plan:
    """Run the program for `Pulumi.<stack>.yaml`.

    `config` and `secret_config` override keys (plain keys are the project's, `aws:region` style keys as given);
    `remove` drops keys, as `pulumi config rm` would. `subnets`, `caller_arn`, `clusters`, `databases`, `parameters` (SSM) and `missing_policies` are what
    the account has (or lacks) for the program's lookups. `preview_changing` runs the program as `pulumi preview` does when resources of
    those types change: their computed outputs are unknown. A configuration error is returned in `Plan.error`.
    """
    stack_config = read_stack_config(project_dir, stack)
    project = stack_config.project
    values = dict(stack_config.values)
    secret_keys = set(stack_config.secret_keys)
    for key in remove:
        values.pop(_full(project, key), None)
        secret_keys.discard(_full(project, key))
    for overrides, secret in ((config or {}, False), (secret_config or {}, True)):
        for key, value in overrides.items():
            values[_full(project, key)] = value if isinstance(value, str) else _json(value)
            if secret:
                secret_keys.add(_full(project, key))

    plan = Plan(project=project, stack=stack)
    region = values.get("aws:region", "")
    mocks = AwsMocks(
        region=region, subnets=subnets, caller_arn=caller_arn, clusters=clusters, databases=databases,
        changing=preview_changing, missing_policies=missing_policies, parameters=parameters,
    )
    monitor = _RecordingMonitor(mocks)

    # What pulumi.runtime.set_mocks does, less the root stack it would make outside the program's event loop
    # (its pending outputs would never resolve): the program gets its stack from run_in_stack, as under the CLI.
    runtime_settings.set_root_resource(None)
    runtime_settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
            engine=pulumi_mocks.MockEngine(_recording_logger(plan.warnings)),
            project=project,
            stack=stack,
            dry_run=bool(preview_changing),
            organization="organization",
            callbacks=None,
        )
    )
    pulumi.runtime.set_all_config(values, sorted(secret_keys))

    program = str(project_dir / "__main__.py")
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(runtime_stack.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    except pulumi.RunError as err:
        plan.error = err
    finally:
        # A run that failed inside an apply leaves tasks of this loop behind; the next run must not wait on them.
        with runtime_settings.SETTINGS.lock:
            runtime_settings.SETTINGS.outputs.clear()
        loop.close()
        asyncio.set_event_loop(None)
        runtime_settings.set_root_resource(None)

    for urn, recorded in monitor.recorded.items():
        registered = monitor.resources.get(urn)
        recorded.state = dict(registered.state) if registered else {}
        recorded.id = registered.id if registered else None
        recorded.transforms = mocks.transforms.get((recorded.type, recorded.name), [])
    # Registration order depends on when Outputs resolve; the URN order does not.
    plan.resources = sorted(monitor.recorded.values(), key=lambda r: (r.type != "pulumi:pulumi:Stack", r.urn))
    plan.outputs = _masked(monitor.stack_outputs)
    plan.raw_outputs = _unwrapped(monitor.stack_outputs)
    return plan


class _ListHandler(logging.Handler):
    def __init__(self, into: list[str]):
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _recording_logger(into: list[str]) -> logging.Logger:
    """A logger of its own per run (not propagated), keeping the program's warnings for the plan."""
    logger = logging.Logger("offline-engine")
    logger.addHandler(_ListHandler(into))
    return logger


def _has_resource_reference(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(rpc._special_sig_key) == rpc._special_resource_sig or any(map(_has_resource_reference, value.values()))
    if isinstance(value, list):
        return any(map(_has_resource_reference, value))
    return False


def _references_as_urns(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_resource_sig:
            return value.get("urn")
        return {k: _references_as_urns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_references_as_urns(v) for v in value]
    return value


def _with_object(request: Any, wire: dict) -> Any:
    copy = type(request)()
    copy.CopyFrom(request)
    copy.object.Clear()
    copy.object.update(wire)
    return copy


def _full(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _masked(value: Any) -> Any:
    return _walk(value, secret=lambda _: SECRET)


def _unwrapped(value: Any) -> Any:
    return _walk(value, secret=lambda inner: _unwrapped(inner))


def _walk(value: Any, *, secret) -> Any:
    """Wire values to plain data: secrets handled by `secret`, assets by path, unknowns marked."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return secret(value.get("value"))
        if sig == rpc._special_asset_sig:
            return {"asset": _relative(value.get("path") or value.get("uri") or "text")}
        if sig == rpc._special_archive_sig:
            return {"archive": _relative(value.get("path") or value.get("uri") or "assets")}
        if sig == rpc._special_resource_sig:
            return value.get("urn")
        return {k: _walk(v, secret=secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, secret=secret) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a float
    return value


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return path
