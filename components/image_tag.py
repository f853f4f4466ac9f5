"""The Airflow image's tag: the Airflow version and a digest of everything in docker/.

The same files give the same tag, so an unchanged image is neither rebuilt nor pushed again, and a changed
Dockerfile, requirement or entrypoint always gets a new tag (the repository refuses to overwrite tags)."""

from __future__ import annotations

import hashlib
from pathlib import Path

DIGEST_LENGTH = 12
_SKIP = {"__pycache__", ".DS_Store"}


def image_tag(docker_dir: Path, airflow_version: str) -> str:
    digest = hashlib.sha256(airflow_version.encode())
    for path in sorted(p for p in docker_dir.rglob("*") if p.is_file() and not _SKIP & set(p.parts)):
        relative = path.relative_to(docker_dir).as_posix()
        digest.update(b"\0" + relative.encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{airflow_version}-{digest.hexdigest()[:DIGEST_LENGTH]}"
