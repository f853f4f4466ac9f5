"""The Airflow image's tag: the Airflow version and a digest of what in docker/ builds that version's image (every
file but the other versions' pins and requirements).

The same files give the same tag, so an unchanged image is neither rebuilt nor pushed again, and a changed
Dockerfile, requirement or entrypoint always gets a new tag. The same tag can still be pushed again: a `git revert`
gives back an earlier tag, and docker-build rebuilds on changes our tag does not see (file modes, its own context
hash), so the repository lets these tags be overwritten (`mutable_tags`) while pods pin the image's digest."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from stackconfig.project_files import image_requirements_for

DIGEST_LENGTH = 12
_SKIP = {"__pycache__", ".DS_Store"}


def mutable_tags(airflow_version: str) -> str:
    """The ECR tag filter that matches every tag `image_tag` gives for this Airflow version, and only those.

    ECR's exclusion filters take letters, digits and ._*- with at most two wildcards, 128 characters at most
    (PutImageTagMutability; the Pulumi AWS provider's RepositoryImageTagMutabilityExclusionFilter docs)."""
    return f"{airflow_version}-*"


def _builds(relative: str, airflow_version: str, requirements: str) -> bool:
    if relative.startswith("constraints/"):
        return relative == f"constraints/{airflow_version}.txt"
    if relative.startswith("requirements") and relative.endswith(".txt"):
        return relative == requirements
    return True


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not _SKIP & set(p.parts))


def image_tag(docker_dir: Path, airflow_version: str, plugins_dir: Optional[Path] = None) -> str:
    """`plugins_dir`: the plugins the image carries (its `plugins` build context), under `plugins/` in the digest."""
    digest = hashlib.sha256(airflow_version.encode())
    requirements = Path(image_requirements_for(airflow_version, docker_dir.parent)).name
    for path in _files(docker_dir):
        relative = path.relative_to(docker_dir).as_posix()
        if not _builds(relative, airflow_version, requirements):
            continue
        digest.update(b"\0" + relative.encode() + b"\0")
        digest.update(path.read_bytes())
    for path in _files(plugins_dir) if plugins_dir else []:
        digest.update(b"\0plugins/" + path.relative_to(plugins_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{airflow_version}-{digest.hexdigest()[:DIGEST_LENGTH]}"
