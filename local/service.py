"""A Kubernetes Service on this machine: a TCP port that forwards each connection to one of the endpoints ready at
that moment (round-robin, as kube-proxy spreads connections), and turns connections away at once while none is
ready (accepted and reset: the client sees an error straight away, as with kube-proxy's reject, not a hang). The
twin puts one in front of the webserver replicas (readiness gates which replicas get traffic) and one in front of
each AWS service, so a fault can take S3 or Secrets Manager away and bring it back.

Kubernetes' rule: a Pod that is not Ready is removed from the Service's endpoints
(kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions); with no endpoints, kube-proxy rejects
the connection."""

from __future__ import annotations

import itertools
import selectors
import socket
import struct
import threading
from typing import Callable


class Service:
    """`127.0.0.1:<port>` forwards to `127.0.0.1:<endpoint>` for an endpoint from `endpoints()`; `port` 0 picks one."""

    def __init__(self, endpoints: Callable[[], list[int]], port: int = 0, name: str = "service"):
        self.endpoints = endpoints
        self.name = name
        self._turn = itertools.count()
        self._listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._down = threading.Event()
        self._closing = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0  # forwarded connections, for tests and figures
        self.refused = 0  # connections turned away: no endpoint ready, down, or the endpoint refused
        self.lookup_failures = 0
        self.last_lookup_error: Exception | None = None
        self._thread = threading.Thread(target=self._serve, name=f"twin-{name}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ faults
    def down(self) -> None:
        """Unreachable: connections under way are cut and new ones refused until `up`."""
        self._down.set()
        with self._lock:
            for sock in list(self._open):
                _close(sock)
            self._open.clear()

    def up(self) -> None:
        self._down.clear()

    # ------------------------------------------------------------------ forwarding
    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._closing.is_set():
                if not selector.select(timeout=0.2):
                    continue
                try:
                    client, _ = self._listener.accept()
                except (BlockingIOError, OSError):
                    continue
                ready = [] if self._down.is_set() else self._ready()
                if not ready:
                    self._count_refused()
                    _reset(client)
                    continue
                endpoint = ready[next(self._turn) % len(ready)]
                threading.Thread(target=self._forward, args=(client, endpoint), daemon=True).start()

    def _ready(self) -> list[int]:
        """The endpoints now; none while they cannot be told (the objects not rendered yet, a lookup that failed):
        the Service must outlive its endpoints' owner's hiccups, as kube-proxy outlives the API server's."""
        try:
            return list(self.endpoints())
        except Exception as err:  # noqa: BLE001 - no endpoints known is no endpoints
            with self._lock:
                self.lookup_failures += 1
                self.last_lookup_error = err  # for a test or a fault to show why connections were turned away
            return []

    def _count_refused(self) -> None:
        with self._lock:
            self.refused += 1

    def _forward(self, client: socket.socket, endpoint: int) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", endpoint), timeout=10)
        except OSError:
            self._count_refused()
            _reset(client)
            return
        upstream.settimeout(None)
        client.setblocking(True)
        with self._lock:
            if self._down.is_set():
                _reset(client)
                _close(upstream)
                return
            self._open.update((client, upstream))
            self.connections += 1
        pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        pump.start()
        _pipe(client, upstream)
        pump.join()
        with self._lock:
            self._open.discard(client)
            self._open.discard(upstream)
        _close(client)
        _close(upstream)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=2)
        self._listener.close()
        self.down()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    try:
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _reset(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a rejected connection is seen: the client gets an error at once."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
