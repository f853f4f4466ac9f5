"""The policy pack's entry point: the Pulumi CLI runs it (`pulumi preview --policy-pack policy`) and talks to the
analyzer it serves."""

from pulumi_policy import PolicyPack

try:
    from .pack import load_relaxations, policies
except ImportError:  # as the CLI runs it: policy/ on sys.path
    from pack import load_relaxations, policies  # type: ignore[no-redef]

PolicyPack(name="airflow-on-aws", policies=policies(load_relaxations()))
