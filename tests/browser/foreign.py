"""A web site of another origin, for cross-site request forgery: it serves the pages a
test gives it, on a free port of its own."""

import contextlib
import html
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ForeignSite:
    host: str
    port: int
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self, path: str, body: str) -> str:
        """Serve ``body`` as the HTML of ``path``; returns its URL."""
        self.pages[path] = body
        return f"{self.origin}{path}"

    def forging(self, path: str, action: str, fields: list[tuple[str, str]]) -> str:
        """A page whose form posts ``fields`` to ``action`` as soon as it loads, as an
        attacker's page does to a visitor who is signed in to tokend."""
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in fields
        )
        return self.serve(
            path,
            "<!doctype html><title>You won a prize</title>"
            f'<form method="post" action="{html.escape(action)}">{inputs}</form>'
            "<script>document.forms[0].submit()</script>",
        )


@contextlib.contextmanager
def foreign_site(host: str = "127.0.0.1") -> Iterator[ForeignSite]:
    site = ForeignSite(host, 0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: pytest shows what matters

    with ThreadingHTTPServer((host, 0), Handler) as server:
        site.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield site
        finally:
            server.shutdown()
            thread.join(10)
