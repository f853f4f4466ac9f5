"""The twin's Service (local/service.py): connections go round-robin to the endpoints ready at that moment, are
refused while none is, and a fault takes the Service away and brings it back."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request

import pytest

from local.service import Service


def _server(answer: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = answer.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def backends():
    servers = [_server("a"), _server("b")]
    yield {s.server_address[1]: s for s in servers}
    for s in servers:
        s.shutdown()
        s.server_close()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()


def test_connections_go_to_each_ready_endpoint_in_turn(backends):
    ports = sorted(backends)
    service = Service(lambda: ports)
    try:
        answers = [_get(service.url) for _ in range(4)]
        assert sorted(answers) == ["a", "a", "b", "b"]
        assert service.connections == 4
    finally:
        service.close()


def test_only_ready_endpoints_get_connections_and_none_ready_is_refused(backends):
    ready = [next(iter(backends))]  # the first server, which answers "a"
    service = Service(lambda: list(ready))
    try:
        assert {_get(service.url) for _ in range(4)} == {"a"}
        ready.clear()
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(service.url)
        assert service.refused >= 1
    finally:
        service.close()


def test_down_cuts_and_refuses_until_up(backends):
    service = Service(lambda: sorted(backends))
    try:
        assert _get(service.url) in ("a", "b")
        service.down()
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(service.url)
        service.up()
        assert _get(service.url) in ("a", "b")
    finally:
        service.close()


def test_endpoints_that_cannot_be_told_turn_connections_away_and_the_service_carries_on(backends):
    ports = sorted(backends)
    answers = iter([RuntimeError("the objects are not rendered yet")])

    def endpoints():
        failure = next(answers, None)
        if failure is not None:
            raise failure
        return ports

    service = Service(endpoints)
    try:
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(service.url)
        assert service.refused == 1 and service.lookup_failures == 1
        assert "not rendered yet" in str(service.last_lookup_error)
        assert _get(service.url) in ("a", "b")  # the Service's thread survived the failed lookup
    finally:
        service.close()
