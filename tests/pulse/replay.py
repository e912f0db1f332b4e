"""Local stand-ins for the platforms: an HTTP server on 127.0.0.1 that replays recorded
answers (tests/pulse/replay/, each in its platform's documented format), and a
Jetstream websocket server.

A test scripts the answers per path (and, optionally, per query parameters):

    server.script("/2/tweets/search/recent", Reply.json("x_search_page1.json"),
                  when={"next_token": None})

Answers of a script are given in order, the last one again and again (so a "storm" is
one Reply). Every request is recorded in `server.requests` for the test to check what
was asked (since_id, min_id, cursor, the encoded hashtag, the token).
"""

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDED = Path(__file__).parent / "replay"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def recorded_json(name: str) -> Any:
    return json.loads(recorded(name))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A slow answer: the server waits until this is set (or 5 s) before answering.
    hold: threading.Event | None = None

    @classmethod
    def json(cls, name_or_data: Any, status: int = 200, **headers: str) -> "Reply":
        body = (
            recorded(name_or_data)
            if isinstance(name_or_data, str)
            else json.dumps(name_or_data, ensure_ascii=False).encode()
        )
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})

    @classmethod
    def html(cls, name: str = "captive_portal.html", status: int = 200) -> "Reply":
        return cls(status, recorded(name), {"Content-Type": "text/html; charset=utf-8"})


@dataclass
class Request:
    path: str  # decoded path
    raw_path: str  # as sent, percent-encoded
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Script:
    path: str
    when: dict[str, str | None]
    replies: list[Reply]
    served: int = 0

    def matches(self, path: str, params: dict[str, str]) -> bool:
        if path != self.path:
            return False
        for key, value in self.when.items():
            if value is None and key in params:
                return False
            if value is not None and params.get(key) != value:
                return False
        return True

    def next(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class ReplayServer:
    def __init__(self) -> None:
        self.scripts: list[_Script] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutting down waits for one poll.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for script in self.scripts:
            for reply in script.replies:
                if reply.hold is not None:
                    reply.hold.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, path: str, *replies: Reply, when: dict[str, str | None] | None = None) -> None:
        self.scripts.append(_Script(path, when or {}, list(replies)))

    def asked(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        from urllib.parse import unquote

        parts = urlsplit(handler.path)
        params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = unquote(parts.path)
        with self._lock:
            self.requests.append(Request(path, parts.path, params, dict(handler.headers.items())))
            script = next((s for s in self.scripts if s.matches(path, params)), None)
            reply = script.next() if script else Reply.json({"error": "unscripted"}, 404)
        if reply.hold is not None:
            reply.hold.wait(5)
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value.replace("{base}", self.url))
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        with contextlib.suppress(OSError):  # The client gave up (a timeout test).
            handler.wfile.write(reply.body)


class JetstreamServer:
    """A Jetstream stand-in: sends the recorded events newer than the client's cursor,
    then closes the connection (`close=True`) or waits for the client to go."""

    def __init__(self, events: list[dict], *, close: bool = False) -> None:
        from websockets.sync.server import serve

        self.events = events
        self.close = close
        self.paths: list[str] = []
        self.server = serve(self._handler, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/subscribe"

    def __enter__(self) -> "JetstreamServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()

    def _handler(self, websocket) -> None:
        from websockets.exceptions import ConnectionClosed

        path = websocket.request.path
        self.paths.append(path)
        params = parse_qs(urlsplit(path).query)
        cursor = int(params.get("cursor", ["0"])[0])
        try:
            for event in self.events:
                if event["time_us"] >= cursor:
                    websocket.send(json.dumps(event, ensure_ascii=False))
            if self.close:
                return
            for _message in websocket:
                pass
        except ConnectionClosed:
            pass


def jetstream_events() -> list[dict]:
    return [
        json.loads(line)
        for line in recorded("jetstream_events.jsonl").decode().splitlines()
        if line.strip()
    ]
