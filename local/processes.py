"""The twin's helper processes (PostgreSQL, PgBouncer, the OpenID Connect provider): who they run as, and how they
stop (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import subprocess
from typing import Optional


def unprivileged_user() -> Optional[str]:
    """As root, the user a server runs as (PostgreSQL and PgBouncer refuse root): `postgres`, which Debian's
    packages create, or on a machine without it (a bare container) `nobody`; None when not root."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        return "nobody"


def run_as(user: Optional[str]) -> list[str]:
    """The command prefix that runs a program as `user` (none: as this process's user)."""
    return ["runuser", "-u", user, "--"] if user else []


def stop(process: Optional[subprocess.Popen], timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
