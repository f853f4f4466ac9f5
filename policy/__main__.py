"""The policy pack's entry point: the Pulumi CLI runs it (`pulumi preview --policy-pack policy`) and talks to the
analyzer it serves."""

from pulumi_policy import PolicyPack

if __package__:
    from .pack import policies
    from .relaxations import load_relaxations
else:  # as the CLI runs it (python -m pulumi.policy <engine> policy/): policy/ is on sys.path
    from pack import policies  # type: ignore[no-redef]
    from relaxations import load_relaxations  # type: ignore[no-redef]

PolicyPack(name="airflow-on-aws", policies=policies(load_relaxations()))
