"""``/events``: the person's audit log, newest first, paged."""

import time

from tests.service.conftest import ManualClock
from tests.support import Server
from tests.web.conftest import Person
from tests.web.html import Element
from tests.web.visitor import Visitor
from tokend.bootstrap import Services
from tokend.service.expiry import ExpiryScanner

DAY = 86_400_000


def _rows(doc: Element) -> list[tuple[str, str]]:
    rows = doc.all("tr", data_testid="event-row")
    return [(row.attrs["data-event-type"], row.one("th").text) for row in rows]


def test_the_log_reads_newest_first(signed_in: Visitor, person: Person, visitor: Visitor) -> None:
    visitor.sign_in(person.username, "a wrong password, once")
    created = signed_in.submit(signed_in.get("/tokens"), "Create token", {"Name": "logged"})
    assert created.status_code == 201
    page = signed_in.get("/events")
    assert page.status == 200
    assert page.title == "Events · tokend"
    assert page.doc.one("h1").text == "Events"
    rows = _rows(page.doc)
    assert rows[:3] == [
        ("token.created", "Token created"),
        ("auth.sign_in_failed", "Failed sign-in"),
        ("auth.signed_in", "Signed in"),
    ]
    first = page.doc.all("tr", data_testid="event-row")[0]
    assert "logged" in first.text
    assert "127.0.0.1" in first.text
    assert "python-httpx" in first.text
    assert first.one("time").attrs["datetime"].endswith("Z")
    assert not page.doc.all("a", rel="next")  # one page


def test_older_events_are_a_page_away(signed_in: Visitor, person: Person, server: Server) -> None:
    with server.client(person.account.token) as api:
        for number in range(55):
            assert api.post("/v3/user/tokens", json={"name": f"e{number:02}"}).status_code == 200
    first = signed_in.get("/events")
    rows = first.doc.all("tr", data_testid="event-row")
    assert len(rows) == 50
    assert "e54" in rows[0].text
    second = signed_in.get(first.doc.one("a", rel="next").attrs["href"])
    older = second.doc.all("tr", data_testid="event-row")
    assert "e04" in older[0].text
    # The rest: e04 to e00, the sign-in, the password set, the bootstrap token made.
    assert [row.attrs["data-event-type"] for row in older][-3:] == [
        "auth.signed_in",
        "account.password_changed",
        "token.created",
    ]
    assert len(older) == 8
    assert second.doc.one("nav", aria_label="Pages of events").one("a", href="/events")


def test_expiry_notices_are_described(
    signed_in: Visitor, person: Person, server: Server, services: Services
) -> None:
    # Expiring in about 400 days: no other test's token is due when the clock is there.
    expires_at = time.time_ns() // 1_000_000 + 400 * DAY
    with server.client(person.account.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "yearly", "expiresAt": expires_at})
        assert made.status_code == 200
    clock = ManualClock(expires_at - DAY // 2)
    scanner = ExpiryScanner(
        uow=services.tokens.uow, thresholds_ms=(DAY,), interval_s=60, clock=clock
    )
    token_id = made.json()["token"]["id"]
    assert token_id in [notice.token.id for notice in scanner.scan()]
    clock.advance(DAY)
    assert token_id in [notice.token.id for notice in scanner.scan()]
    rows = _rows(signed_in.get("/events").doc)
    assert rows[:2] == [
        ("token.expired", "Token expired"),
        ("token.expiring", "Token expiring soon: warned"),
    ]
