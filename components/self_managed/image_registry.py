"""The Airflow image and where it lives: an ECR repository (scanned, encrypted, old images expired, tags immutable
except the ones this program pushes again) and the image built from docker/ for linux/amd64 and pushed there."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components.self_managed.ecr_lifecycle_policy import keep_newest_images
from components.self_managed.image_tag import image_tag, mutable_tags

PLATFORM = docker_build.Platform.LINUX_AMD64
NO_PLUGINS = "no-plugins"  # docker/no-plugins: the plugins context of a stack without plugins (airflow.pluginsDir '')


@dataclass
class ImageRegistryArgs:
    docker_dir: Path
    airflow_version: str
    keep_images: int
    protect: bool
    # The stack's key; AWS's aws/ecr key when None. Used when the repository is created: ECR cannot change a
    # repository's encryption, and replacing a repository that holds images fails (its recorded force_delete).
    kms_key_arn: Optional[pulumi.Input[str]] = None
    # The plugins the image carries (the Dockerfile's `plugins` build context); None: docker/no-plugins, empty.
    plugins_dir: Optional[Path] = None


class ImageRegistry(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    tag: str
    image_ref: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:ImageRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-repo",
            # Immutable, but for this program's own tags: a revert or a rebuild pushes a tag that exists already,
            # which a fully IMMUTABLE repository refuses. Pods pin the digest, so an overwritten tag moves nothing.
            image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
            image_tag_mutability_exclusion_filters=[
                aws.ecr.RepositoryImageTagMutabilityExclusionFilterArgs(
                    filter=mutable_tags(args.airflow_version), filter_type="WILDCARD"
                )
            ],
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)
            ],
            # Images can be rebuilt from docker/; an unprotected stack may delete a repository that holds some.
            force_delete=not args.protect,
            # A repository created before it was encrypted with the stack's key keeps its key rather than be
            # replaced under running pods (docs/configuration.md: mwaa.kmsKey).
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["encryptionConfigurations"]),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(keep_newest_images(args.keep_images)),
            opts=child,
        )

        self.tag = image_tag(args.docker_dir, args.airflow_version, args.plugins_dir)
        token = aws.ecr.get_authorization_token_output(
            registry_id=repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        # Relative to the project (Pulumi's working directory), so the state does not depend on where it is cloned.
        context = Path(os.path.relpath(args.docker_dir))
        plugins = Path(os.path.relpath(args.plugins_dir)) if args.plugins_dir else context / NO_PLUGINS
        image = docker_build.Image(
            f"{name}-image",
            # The project's plugins as a second build context: docker/ stays the image's context.
            context=docker_build.BuildContextArgs(
                location=context.as_posix(), named={"plugins": docker_build.ContextArgs(location=plugins.as_posix())}
            ),
            dockerfile=docker_build.DockerfileArgs(location=(context / "Dockerfile").as_posix()),
            platforms=[PLATFORM],
            build_args={"AIRFLOW_VERSION": args.airflow_version},
            tags=[repository.repository_url.apply(lambda url: f"{url}:{self.tag}")],
            push=True,
            # A preview does not spend minutes building (it still asks the Docker daemon whether BuildKit is on).
            build_on_preview=False,
            registries=[
                docker_build.RegistryArgs(
                    address=repository.repository_url.apply(lambda url: url.split("/")[0]),
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password),
                )
            ],
            opts=child,
        )
        self.repository_url = repository.repository_url
        # The digest pins the exact image: pods never pull something else under the same name.
        self.image_ref = image.ref
        self.register_outputs({"repositoryUrl": self.repository_url, "imageRef": self.image_ref})
