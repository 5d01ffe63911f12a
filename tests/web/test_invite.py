"""``/invite/{code}``: a person chooses a password and is signed in."""

import httpx

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Visitor, set_cookies
from tokend.bootstrap import Services

CHOSEN = "my very own passphrase"


def _accept(browser: Visitor, code: str, new: str, confirm: str) -> httpx.Response:
    page = browser.get(f"/invite/{code}")
    return browser.submit(
        page, "Set password and sign in", {"New password": new, "Confirm new password": confirm}
    )


def test_an_invite_greets_and_signs_in(
    visitor: Visitor, services: Services, person: Person, server: Server
) -> None:
    code = services.accounts.invite(person.username).code
    page = visitor.get(f"/invite/{code}")
    assert page.status == 200
    assert person.username in page.doc.one("h1").text
    answer = _accept(visitor, code, CHOSEN, CHOSEN)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/tokens"
    assert "tokend_session" in set_cookies(answer)
    assert visitor.get("/tokens").status == 200
    with Visitor(server) as later:
        assert later.sign_in(person.username, CHOSEN).status_code == 303
    # Used: the same link now says it is not valid, like any other.
    used = visitor.get(f"/invite/{code}")
    assert used.status == 404
    assert used.doc.one("h1").text == "Invite not valid"
    assert code not in server.log_path.read_text()


def test_a_bad_invite_says_only_that(visitor: Visitor) -> None:
    for code in ("nonsense", "x" * 43, "a" * 500):
        page = visitor.get(f"/invite/{code}")
        assert page.status == 404
        assert page.doc.one("h1").text == "Invite not valid"
        assert "not valid" in page.doc.one("main").text
    answer = visitor.http.post("/invite/nonsense", data={"csrf_token": "x"})
    assert answer.status_code == 403  # no form cookie: refused before anything else


def test_a_mistyped_or_weak_password_keeps_the_invite(
    visitor: Visitor, services: Services, person: Person
) -> None:
    code = services.accounts.invite(person.username).code
    for new, confirm, field in (
        (CHOSEN, CHOSEN + "?", "confirm_password"),
        ("short", "short", "new_password"),
        (person.username, person.username, "new_password"),
    ):
        page = visitor.page(_accept(visitor, code, new, confirm))
        assert page.status == 400
        assert page.title == "Error: Welcome · tokend"
        assert page.doc.one(id=f"field-{field}-error").attrs["role"] == "alert"
    assert _accept(visitor, code, CHOSEN, CHOSEN).status_code == 303
