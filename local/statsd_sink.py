"""The metrics agent's StatsD listener on this machine: a UDP port on loopback that keeps what Airflow sends, so
that the twin's tests can hold the alarms' metric names to the ones Airflow emits (k8s/metrics.py)."""

from __future__ import annotations

import socket
import threading
from collections import Counter


class StatsdSink:
    """`127.0.0.1:<port>`: every StatsD line received (`name:value|type[|@rate][|#tags]`), counted by name and type."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.5)
        self.port = self._socket.getsockname()[1]
        self.received: Counter[tuple[str, str]] = Counter()  # (name, StatsD type) -> lines
        self.last_value: dict[str, str] = {}  # name -> the value of its latest line
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="twin-statsd", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                packet = self._socket.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            # A packet may carry several lines (a client's pipeline); a line is name:value|type.
            for line in packet.decode(errors="replace").splitlines():
                name, _, rest = line.partition(":")
                kind = rest.split("|")[1] if rest.count("|") >= 1 else ""
                if name and kind:
                    with self._lock:
                        self.received[(name, kind)] += 1
                        self.last_value[name] = rest.split("|")[0]

    def names(self) -> dict[str, set[str]]:
        """Each metric name seen, with the StatsD types it came as."""
        with self._lock:
            seen: dict[str, set[str]] = {}
            for name, kind in self.received:
                seen.setdefault(name, set()).add(kind)
            return seen

    def close(self) -> None:
        self._closing.set()
        self._socket.close()
        self._thread.join(timeout=2)
