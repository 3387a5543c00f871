"""A local HTTP server that plays a provider's API in tests: it records each request and
answers with scripted replies, so clients are tested against the real wire contract."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: dict


Reply = tuple[int, dict[str, str], bytes]  # status, headers, body


@dataclass
class FakeApi:
    """Records requests; answers each with the next of ``replies`` (the last repeats)."""

    url: str = ""
    replies: list[Callable[[Received], Reply]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, request: Received) -> Reply:
        self.received.append(request)
        return self.replies[min(len(self.received), len(self.replies)) - 1](request)


@contextmanager
def serving() -> Iterator[FakeApi]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            url = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, reply_headers, body = fake.answer(Received("POST", url.path, parse_qs(url.query), headers, json.loads(raw)))
            try:
                self.send_response(status)
                for name, value in {"content-length": str(len(body)), **reply_headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a test's deliberately slow reply must not hold up the shutdown
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
