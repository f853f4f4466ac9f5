"""Which files of a folder are delivered to Airflow, and under which relative paths."""

from __future__ import annotations

from pathlib import Path

# Build litter and editor files never reach the bucket; .airflowignore does, Airflow reads it.
_SKIPPED_DIRS = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo", ".swp"}
_SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}
_KEPT_HIDDEN = {".airflowignore"}


def asset_files(folder: Path) -> list[tuple[str, Path]]:
    """(posix relative path, file) for every file to deliver, sorted so that order never depends on the disk."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(folder)
        if any(part in _SKIPPED_DIRS or (part.startswith(".") and part not in _KEPT_HIDDEN) for part in relative.parts):
            continue
        if path.suffix in _SKIPPED_SUFFIXES or path.name in _SKIPPED_NAMES:
            continue
        found.append((relative.as_posix(), path))
    return sorted(found)
