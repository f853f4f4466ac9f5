"""Stopping a helper process the twin started (PgBouncer, the OpenID Connect provider): SIGTERM, then SIGKILL."""

from __future__ import annotations

import subprocess
from typing import Optional


def stop(process: Optional[subprocess.Popen], timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
