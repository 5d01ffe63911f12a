"""``/docs`` works without internet: Swagger UI's files come from tokend itself."""

import re
from urllib.parse import urljoin, urlsplit

from tests.support import Server


def test_docs_load_nothing_from_another_origin(server: Server) -> None:
    with server.client() as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text

        # Every URL the page names is on this server; it names no other host at all.
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", html, re.IGNORECASE), html
        references = re.findall(r"""(?:src|href|url)['"]?\s*[=:]\s*['"]([^'"]+)['"]""", html)
        assert {urlsplit(ref).path for ref in references} >= {
            "/docs/static/swagger-ui-bundle.js",
            "/docs/static/swagger-ui.css",
            "/docs/swagger-init.js",
            "/openapi.json",
        }
        for ref in references:
            absolute = urljoin(server.url + "/docs", ref)
            assert urlsplit(absolute).netloc == urlsplit(server.url).netloc
            loaded = http.get(absolute)
            assert loaded.status_code == 200, ref
            assert len(loaded.content) > 0

        script = http.get("/docs/static/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"]
        assert "SwaggerUIBundle" in script.text
        assert "text/css" in http.get("/docs/static/swagger-ui.css").headers["content-type"]
        assert '"validatorUrl": null' in html  # no document sent to validator.swagger.io
        assert "SwaggerUIBundle(" in http.get("/docs/swagger-init.js").text


def test_docs_run_no_inline_script(server: Server) -> None:
    """Swagger UI starts from a file of ours, so the strict policy of §9 allows it."""
    with server.client() as http:
        page = http.get("/docs")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S):
        # A script is a file, or a JSON data block, which is never executed.
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()


def test_docs_stay_out_of_the_openapi_document(server: Server) -> None:
    with server.client() as http:
        paths = http.get("/openapi.json").json()["paths"]
    assert not any(path.startswith("/docs") for path in paths)
    with server.client() as http:
        assert http.get("/docs/static/../../etc/passwd").status_code == 404
