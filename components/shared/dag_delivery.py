"""DAGs, requirements, plugins and the startup script as objects in the DAG bucket.

Every DAG file is its own object, so editing one DAG changes one object, and a deleted file's object goes with it;
a self-managed stack also publishes the folder as one archive, for worker pods.
The DAG folder's path never changes, so DAG edits never touch the Airflow environment; requirements, plugins and
the startup script are handed to MWAA by object version, so their changes reach it and nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumiverse_time as time

from components.shared.dag_bucket import DagBucket
from components.shared.dag_files import asset_files
from components.shared.plugins_archive import write_folder_zip, write_plugins_zip
from k8s.spec import DAG_ARCHIVE_KEY

DAG_S3_PATH = "dags"
REQUIREMENTS_KEY = "requirements.txt"
PLUGINS_KEY = "plugins.zip"
STARTUP_SCRIPT_KEY = "startup.sh"
# "When you enable versioning on a bucket for the first time, it might take a short amount of time for the change to
# be fully propagated ... We recommend that you wait for 15 minutes after enabling versioning before issuing write
# operations (PUT or DELETE) on objects in the bucket." (S3 user guide, "Enabling versioning on buckets".) A write
# before that may be stored without a version id, and MWAA takes requirements, plugins and the startup script by
# version only.
VERSIONING_SETTLES = "15m"
# What S3 reports as the version of an object written while versioning was off or suspended.
NO_VERSION = ("", "null")


def require_version(key: str, version: Optional[str]) -> str:
    """The version id MWAA is given for `key`: never an empty or null one, which MWAA refuses."""
    if version in NO_VERSION or version is None:
        raise pulumi.RunError(
            f"S3 stored {key} without a version id ({version!r}): the DAG bucket's versioning had not taken effect "
            f"yet. Change the file (a comment line will do) and run `pulumi up` again, so that it is written anew."
        )
    return version


@dataclass
class DagDeliveryArgs:
    bucket: DagBucket
    dags_dir: Path
    build_dir: Path
    requirements_file: Optional[Path] = None
    plugins_dir: Optional[Path] = None
    startup_script: Optional[Path] = None
    # Also publish the DAG folder as one archive (k8s/spec.py DAG_ARCHIVE_KEY), for worker pods.
    dag_archive: bool = False


@dataclass
class VersionedObject:
    """An object MWAA reads by path and version."""

    key: str
    version: pulumi.Output[str]


class DagDelivery(pulumi.ComponentResource):
    dag_s3_path: str
    dag_keys: list[str]
    requirements: Optional[VersionedObject]
    plugins: Optional[VersionedObject]
    startup_script: Optional[VersionedObject]

    def __init__(self, name: str, args: DagDeliveryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:DagDelivery", name, None, opts)
        self._name = name
        self._bucket = args.bucket
        self.dag_s3_path = DAG_S3_PATH
        self.dag_keys = []
        archive: list[pulumi.Resource] = []
        if args.dag_archive:
            # From the same files, and written before them: a sidecar never sees a new DAG file that the archive a
            # task's pod fetches does not hold yet. One object, whatever the folder's size.
            archive = [self._upload(DAG_ARCHIVE_KEY, write_folder_zip(args.dags_dir, args.build_dir, "dags"))]
        for relative, path in asset_files(args.dags_dir):
            key = f"{DAG_S3_PATH}/{relative}"
            self._upload(key, path, after=archive)
            self.dag_keys.append(key)

        plugins_zip = None
        if args.plugins_dir is not None and asset_files(args.plugins_dir):
            plugins_zip = write_plugins_zip(args.plugins_dir, args.build_dir)
        versioned = {REQUIREMENTS_KEY: args.requirements_file, PLUGINS_KEY: plugins_zip, STARTUP_SCRIPT_KEY: args.startup_script}
        self._settled: list[pulumi.Resource] = []
        if any(path is not None for path in versioned.values()):
            # Waits once, when the bucket (and its versioning) is new; a new bucket gets a new wait.
            self._settled = [
                time.Sleep(
                    f"{name}-versioning-settles",
                    create_duration=VERSIONING_SETTLES,
                    triggers={"bucket": args.bucket.name},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=self._bucket.ready),
                )
            ]
        self.requirements = self._versioned(REQUIREMENTS_KEY, versioned[REQUIREMENTS_KEY])
        self.plugins = self._versioned(PLUGINS_KEY, versioned[PLUGINS_KEY])
        self.startup_script = self._versioned(STARTUP_SCRIPT_KEY, versioned[STARTUP_SCRIPT_KEY])
        self.register_outputs(
            {
                "dagS3Path": self.dag_s3_path,
                "dagKeys": self.dag_keys,
                "requirementsVersion": self.requirements.version if self.requirements else None,
                "pluginsVersion": self.plugins.version if self.plugins else None,
                "startupScriptVersion": self.startup_script.version if self.startup_script else None,
            }
        )

    def _upload(self, key: str, path: Path, after: Optional[list[pulumi.Resource]] = None) -> aws.s3.BucketObjectv2:
        return aws.s3.BucketObjectv2(
            f"{self._name}-{key}",
            bucket=self._bucket.name,
            key=key,
            source=pulumi.FileAsset(str(path)),
            content_type=_content_type(path),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._bucket.ready, *(after or [])]),
        )

    def _versioned(self, key: str, path: Optional[Path]) -> Optional[VersionedObject]:
        if path is None:
            return None
        version = self._upload(key, path, after=self._settled).version_id
        return VersionedObject(key=key, version=version.apply(lambda v: require_version(key, v)))


def _content_type(path: Path) -> str:
    return {
        ".py": "text/x-python",
        ".txt": "text/plain",
        ".sh": "text/x-shellscript",
        ".zip": "application/zip",
        ".sql": "text/plain",
        ".json": "application/json",
        ".yaml": "text/yaml",
        ".yml": "text/yaml",
    }.get(path.suffix, "application/octet-stream")
