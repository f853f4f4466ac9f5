"""Each twin pod's hostname, as Airflow reads it: on the cluster every pod has its own (its name), and Airflow
records it on each job and task instance; `airflow jobs check --local`, the schedulers' and triggerers' probes, looks
for a job of this host only. On one machine every replica would share the machine's name, and one replica's probe
would pass on another's heartbeat, so the twin sets `[core] hostname_callable` to this function and each pod's
HOSTNAME (which the container runtime sets on the cluster) to its pod's name.

What this costs: the UI fetches a deferred task's trigger log from its triggerer's log server by hostname, and a pod's
name does not resolve here (no project DAG defers); finished tasks' logs come from the log bucket, as before."""

from __future__ import annotations

import os
import socket


def pod_hostname() -> str:
    return os.environ.get("HOSTNAME") or socket.getfqdn()
