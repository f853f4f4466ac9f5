"""A folder as a zip that the same files always turn into the same bytes: plugins.zip, and the DAG folder's
archive that self-managed worker pods fetch in one request.

MWAA reinstalls plugins (and restarts its components) whenever the object's version changes; an archive whose bytes
changed only because of timestamps or file order would cost an environment update (or an upload) for nothing.
"""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from pathlib import Path

from components.shared.dag_files import asset_files

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def build_folder_zip(source: Path) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for relative, path in asset_files(source):
            info = zipfile.ZipInfo(relative, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 if not _is_executable(path) else 0o100755) << 16
            info.create_system = 3  # unix, so the permission bits above are honoured everywhere
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def write_folder_zip(source: Path, build_dir: Path, stem: str) -> Path:
    """Write the archive under build_dir, named by its content, and return its path."""
    data = build_folder_zip(source)
    build_dir.mkdir(parents=True, exist_ok=True)
    target = build_dir / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return target


def write_plugins_zip(source: Path, build_dir: Path) -> Path:
    return write_folder_zip(source, build_dir, "plugins")


def _is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o111)
