"""The Airflow version a stack has deployed, recorded in SSM Parameter Store once the deployment has finished.

Written after the migration Job and the components' rollouts (self-managed) or the MWAA environment's update
(managed), so a failed upgrade leaves the old version recorded; components/preflight.py reads it before the next
deployment to hold a change of `airflow.version` to the flavour's upgrade rules and to snapshot the database first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.naming import airflow_version_parameter


@dataclass
class DeployedAirflowVersionArgs:
    environment: str
    flavour: str
    version: str
    # What must have succeeded first: the Airflow the version describes.
    after: Sequence[pulumi.Resource]


class DeployedAirflowVersion(pulumi.ComponentResource):
    def __init__(self, name: str, args: DeployedAirflowVersionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:DeployedAirflowVersion", name, None, opts)
        self.parameter = aws.ssm.Parameter(
            f"{name}-airflow-version",
            name=airflow_version_parameter(args.environment, args.flavour),
            type="String",
            insecure_value=args.version,  # not a secret: readable in previews
            description="The Airflow version this stack last deployed (read before the next deployment)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        self.register_outputs({"name": self.parameter.name})
