"""The EKS cluster Airflow runs on: API authentication, an OIDC provider for IRSA, nodes in private subnets, a
managed node group, and the Cluster Autoscaler so that queued worker pods get nodes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.naming import NODE_POLICIES, aws_managed_policy_arn, eks_cluster_resource_name, eks_log_group_name, partition
from components.self_managed.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.self_managed.workload_identity_policy import node_trust_policy
from stackconfig.cluster import ClusterSettings
from stackconfig.limits import eks_standard_support_ended

# The Airflow image is linux/amd64; AL2023 is the node OS EKS supports for every offered version.
NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"
NODE_ROOT_DEVICE = "/dev/xvda"
NODE_LABELS = {"workload": "airflow"}
CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def bounded_roles(boundary: pulumi.Input[str]) -> pulumi.ResourceTransform:
    """A transform that gives every IAM role pulumi-eks creates inside the cluster component (its cluster service
    role, `<name>-eksRole`) the stack's permissions boundary, which pulumi-eks has no argument for. Pulumi runs
    `transforms` on the children of remote components too; their props carry the wire names."""

    def transform(args: pulumi.ResourceTransformArgs) -> Optional[pulumi.ResourceTransformResult]:
        if args.type_ != "aws:iam/role:Role":
            return None
        return pulumi.ResourceTransformResult(props={**args.props, "permissionsBoundary": boundary}, opts=args.opts)

    return transform


@dataclass
class KubernetesClusterArgs:
    cluster_name: str
    region: str
    account_id: pulumi.Input[str]
    settings: ClusterSettings
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    aws_provider: aws.Provider
    protect: bool
    # Every IAM role of the cluster carries it: the node role, the autoscaler's, and pulumi-eks's own cluster role.
    permissions_boundary: Optional[pulumi.Input[str]] = None
    # The stack's key: Kubernetes Secrets are envelope-encrypted with it (EKS encryption config), and the control
    # plane's log group, when given.
    kms_key_arn: Optional[pulumi.Input[str]] = None


class KubernetesCluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    # For the Airflow workloads: talks to this cluster's API server.
    provider: k8s.Provider

    def __init__(self, name: str, args: KubernetesClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:KubernetesCluster", name, None, opts)
        if args.protect and args.settings.open_to_the_internet:
            pulumi.log.warn(
                "cluster.publicAccessCidrs opens the Kubernetes API of this protected stack to the whole internet "
                "(IAM still authenticates every call): narrow it to your runners' and admins' egress ranges",
                resource=self,
            )
        ended = eks_standard_support_ended(args.settings.kubernetes_version, date.today().isoformat())
        if ended:
            pulumi.log.warn(
                f"cluster.kubernetesVersion {args.settings.kubernetes_version} left EKS standard support on {ended}: "
                f"EKS bills extended support, $0.50 more per cluster hour, while the cluster runs it. Upgrade one "
                f"minor at a time (pulumi config set --path cluster.kubernetesVersion <next>)",
                resource=self,
            )
        cluster = self._cluster(name, args)
        node_role, attachments = self._node_role(name, args)
        nodes = self._nodes(name, args, cluster, node_role, attachments)
        self._coredns(name, args, nodes)
        self.provider = self._kubernetes_provider(name, cluster)
        self._autoscaler(name, args, cluster, nodes)

        self.name = pulumi.Output.from_input(args.cluster_name)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_issuer = cluster.oidc_issuer
        self.security_group_id = cluster.cluster_security_group_id
        self.node_role_arn = node_role.arn
        self.register_outputs(
            {
                "name": self.name,
                "oidcProviderArn": self.oidc_provider_arn,
                "securityGroupId": self.security_group_id,
                "nodeRoleArn": self.node_role_arn,
            }
        )

    def _cluster(self, name: str, args: KubernetesClusterArgs) -> eks.Cluster:
        settings = args.settings
        # pulumi-eks is a remote component: it gets the stack's provider explicitly, not through its parent.
        on_aws = pulumi.ResourceOptions(parent=self, providers={"aws": args.aws_provider})
        p = partition(args.region)
        # EKS would create the control-plane log group itself, without retention, and keep it after the cluster.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=eks_log_group_name(args.cluster_name),
            retention_in_days=settings.log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        cluster = eks.Cluster(
            eks_cluster_resource_name(name),
            name=args.cluster_name,
            version=settings.kubernetes_version,
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            public_subnet_ids=args.public_subnet_ids,
            node_associate_public_ip_address=False,
            skip_default_node_group=True,
            # Nodes of a managed node group use the security group EKS creates; so do the database's rules.
            skip_default_security_groups=True,
            authentication_mode=eks.AuthenticationMode.API,
            # The VPC CNI enforces the NetworkPolicies of the Airflow namespace.
            vpc_cni_options=eks.VpcCniOptionsArgs(enable_network_policy=True),
            create_oidc_provider=True,
            endpoint_private_access=True,
            endpoint_public_access=settings.endpoint_public_access,
            public_access_cidrs=settings.public_access_cidrs if settings.endpoint_public_access else None,
            enabled_cluster_log_types=list(settings.log_types),
            deletion_protection=args.protect,
            encryption_config_key_arn=args.kms_key_arn,
            # Whoever runs `pulumi up` first is cluster admin (EKS's bootstrap); these principals are too.
            access_entries={
                f"admin-{i}": eks.AccessEntryArgs(
                    principal_arn=principal,
                    access_policies={
                        "cluster-admin": eks.AccessPolicyAssociationArgs(
                            policy_arn=CLUSTER_ADMIN_POLICY.format(partition=p),
                            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                        )
                    },
                )
                for i, principal in enumerate(settings.admin_principal_arns)
            },
            opts=pulumi.ResourceOptions.merge(
                on_aws,
                pulumi.ResourceOptions(
                    depends_on=[log_group],
                    transforms=[bounded_roles(args.permissions_boundary)] if args.permissions_boundary is not None else None,
                ),
            ),
        )
        return cluster

    def _node_role(self, name: str, args: KubernetesClusterArgs) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=json.dumps(node_trust_policy()),
            description=f"Nodes of EKS cluster {args.cluster_name}",
            permissions_boundary=args.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=aws_managed_policy_arn(args.region, policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in NODE_POLICIES
        ]
        return node_role, attachments

    def _nodes(
        self, name: str, args: KubernetesClusterArgs, cluster: eks.Cluster, node_role: aws.iam.Role,
        attachments: list[aws.iam.RolePolicyAttachment],
    ) -> eks.ManagedNodeGroup:
        settings = args.settings
        # pulumi-eks is a remote component: it gets the stack's provider explicitly, not through its parent.
        on_aws = pulumi.ResourceOptions(parent=self, providers={"aws": args.aws_provider})
        # Pods reach the instance metadata service no more (one network hop, IMDSv2 only): worker pods run DAG
        # code, and the node role's rights are not theirs; they get AWS access through IRSA only.
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"Nodes of EKS cluster {args.cluster_name}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=NODE_ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=settings.node_disk_size_gb,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            update_default_version=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        nodes = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            node_role=node_role,
            version=settings.kubernetes_version,
            ami_type=NODE_AMI_TYPE,
            instance_types=list(settings.node_instance_types),
            capacity_type=settings.capacity_type,
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            subnet_ids=args.private_subnet_ids,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=settings.min_nodes, desired_size=settings.desired_nodes, max_size=settings.max_nodes
            ),
            labels=NODE_LABELS,
            # The Cluster Autoscaler owns the desired size once the group exists; `pulumi up` must not reset it.
            ignore_scaling_changes=True,
            opts=pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(depends_on=attachments)),
        )
        return nodes

    def _coredns(self, name: str, args: KubernetesClusterArgs, nodes: eks.ManagedNodeGroup) -> None:
        settings = args.settings
        # pulumi-eks manages the VPC CNI and kube-proxy add-ons, but CoreDNS only with its own default node group
        # (nodejs/eks/cluster/cluster.ts: "We can only enable the coredns addon if we have a node group to place it
        # on"). Without a managed add-on, EKS's bootstrap CoreDNS is never upgraded with the cluster. It is created
        # here once the nodes exist (its pods need them to become ACTIVE), at the newest version for the cluster's
        # Kubernetes, adopting the running Deployment (OVERWRITE) and leaving it running if the add-on goes.
        coredns_version = aws.eks.get_addon_version_output(
            addon_name="coredns",
            kubernetes_version=settings.kubernetes_version,
            most_recent=True,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=args.aws_provider),
        )
        aws.eks.Addon(
            f"{name}-coredns",
            cluster_name=args.cluster_name,
            addon_name="coredns",
            addon_version=coredns_version.version,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            preserve=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes]),
        )

    def _kubernetes_provider(self, name: str, cluster: eks.Cluster) -> k8s.Provider:
        return k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(cluster.kubeconfig_json),
            enable_server_side_apply=True,
            # Airflow's ConfigMap and Secret are updated in place (the pods roll on their checksum), never deleted
            # and recreated under running pods.
            enable_config_map_mutable=True,
            enable_secret_mutable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _autoscaler(self, name: str, args: KubernetesClusterArgs, cluster: eks.Cluster, nodes: eks.ManagedNodeGroup) -> None:
        settings = args.settings
        ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=args.cluster_name,
                kubernetes_version=settings.kubernetes_version,
                region=args.region,
                account_id=args.account_id,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                kubernetes_provider=self.provider,
                permissions_boundary=args.permissions_boundary,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes]),
        )
