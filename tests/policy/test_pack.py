"""The policy pack as the Pulumi CLI runs it: policy/requirements.txt installed into an environment of its own,
`python -m pulumi.policy <engine> policy/` (the Python language host's way), and the analyzer it serves asked over
gRPC, as `pulumi preview --policy-pack policy` asks it, to analyze the shipped prod stack and a bad variant; and a
relaxation, with and without its reason."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from local import image_env
from policy import rules
from stackconfig.project_files import PROJECT_DIR
from tests.policy.plans import edited, resources, with_props

pytestmark = pytest.mark.contract

PACK = PROJECT_DIR / "policy"
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
ADVISORY = analyzer_pb2.EnforcementLevel.Value("ADVISORY")


@pytest.fixture(scope="module")
def policy_python(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("policy") / "venv"
    try:
        return image_env.build_from(venv, image_env.image_python(), (PACK / "requirements.txt").read_text()) / "python"
    except image_env.ImageEnvError as err:
        pytest.fail(str(err))


class Analyzer:
    def __init__(self, python: Path, pack: Path):
        env = {**os.environ, "PULUMI_PROJECT": "airflow-on-aws", "PULUMI_STACK": "prod", "PULUMI_DRY_RUN": "true",
               "PULUMI_ORGANIZATION": "organization"}
        self.process = subprocess.Popen([str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)], cwd=pack,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"the pack served no port: {line!r} {self.process.stderr.read()[-3000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def info(self) -> dict[str, analyzer_pb2.PolicyInfo]:
        return {p.name: p for p in self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30).policies}

    def analyze(self, stack_resources: list[rules.Resource]) -> list[analyzer_pb2.AnalyzeDiagnostic]:
        request = analyzer_pb2.AnalyzeStackRequest()
        for r in stack_resources:
            properties = struct_pb2.Struct()
            properties.update(dict(r.props))
            request.resources.append(analyzer_pb2.AnalyzerResource(
                type=r.type, urn=r.urn, name=r.name, properties=properties,
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect), dependencies=list(r.dependencies),
                propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                                      for k, v in r.property_dependencies.items()},
            ))
        return list(self.stub.AnalyzeStack(request, timeout=120).diagnostics)

    def close(self):
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def analyzer(policy_python):
    served = Analyzer(policy_python, PACK)
    yield served
    served.close()


def test_the_pack_serves_every_rule_at_its_level(analyzer):
    info = analyzer.info()
    assert set(info) == {r.name for r in rules.RULES}
    for rule in rules.RULES:
        assert info[rule.name].enforcementLevel == (MANDATORY if rule.mandatory else ADVISORY), rule.name


def test_the_shipped_prod_stack_passes_with_only_the_advisory_endpoint_note(analyzer):
    diagnostics = analyzer.analyze(resources("prod"))
    assert [d.policyName for d in diagnostics if d.enforcementLevel == MANDATORY] == []
    assert {d.policyName for d in diagnostics} == {"eks-endpoint-restricted"}


def test_a_bad_variant_fails_with_its_message_on_the_resource(analyzer):
    stack_resources, urn = edited("prod", "aws:kms/key:Key", lambda r: with_props(r, enableKeyRotation=False))
    (failed,) = [d for d in analyzer.analyze(stack_resources) if d.enforcementLevel == MANDATORY]
    assert (failed.policyName, failed.urn) == ("kms-keys-rotated", urn)
    assert "rotated" in failed.message


def test_a_value_unknown_in_the_preview_does_not_stop_the_other_checks(analyzer):
    # The analyzer's proxy raises on an unknown value; the pack reads it as unknown and checks the rest: here the
    # first log group's retention is unknown, and the second's unset.
    stack_resources, _ = edited("prod", "aws:cloudwatch/logGroup:LogGroup", lambda r: with_props(
        r, retentionInDays=rules.UNKNOWN))
    groups = [r for r in stack_resources if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    second = groups[1].urn
    stack_resources = [with_props(r, retentionInDays=None) if r.urn == second else r for r in stack_resources]
    (failed,) = [d for d in analyzer.analyze(stack_resources) if d.enforcementLevel == MANDATORY]
    assert (failed.policyName, failed.urn) == ("log-groups-retained", second)


def _pack_copy(tmp_path: Path, relaxations: str) -> Path:
    copy = tmp_path / "policy"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (copy / "relaxations.yaml").write_text(relaxations)
    return copy


def test_a_relaxed_rule_reports_as_advisory_with_its_reason(policy_python, tmp_path):
    reason = "The sandbox account keeps no data that needs rotating keys."
    served = Analyzer(policy_python, _pack_copy(tmp_path, f"relaxed:\n  kms-keys-rotated: \"{reason}\"\n"))
    try:
        assert served.info()["kms-keys-rotated"].enforcementLevel == ADVISORY
        stack_resources, _ = edited("prod", "aws:kms/key:Key", lambda r: with_props(r, enableKeyRotation=False))
        (note,) = [d for d in served.analyze(stack_resources) if d.policyName == "kms-keys-rotated"]
        # pulumi-policy prints the description (which carries the reason) before the message: once.
        assert note.enforcementLevel == ADVISORY and reason in note.description and note.message.count(reason) == 1
    finally:
        served.close()


@pytest.mark.parametrize("relaxations,says", [
    ("relaxed:\n  kms-keys-rotated: \"\"\n", "give the reason"),
    ("relaxed:\n  kms-key-rotation: \"A reason long enough to count.\"\n", "no such rule"),
])
def test_a_relaxation_without_a_reason_or_of_no_rule_stops_the_pack(policy_python, tmp_path, relaxations, says):
    with pytest.raises(RuntimeError, match=says):
        Analyzer(policy_python, _pack_copy(tmp_path, relaxations))
