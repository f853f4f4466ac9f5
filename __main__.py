"""Airflow on AWS: one stack, one Airflow environment. The architecture diagram of README.md, as code."""

from pathlib import Path

import stackconfig
from components import preflight
from components.shared.foundation import shared_foundation, stack_context

# Every problem in the stack's config, and in what the account has, is reported here, before anything is created.
project_dir = Path(__file__).parent
settings = stackconfig.read(project_dir)
account = preflight.check(settings)

# Shared by both flavours: the provider, key and boundary; the network, DAG bucket and delivery, secrets.
ctx = stack_context(settings, project_dir)
foundation = shared_foundation(settings, ctx)

# The Airflow runtime: a flavour imports only what it deploys.
if settings.managed:
    from components.managed.runtime import managed_runtime

    managed_runtime(settings, ctx, foundation)
else:
    from components.self_managed.runtime import self_managed_runtime

    self_managed_runtime(settings, ctx, foundation, account)
