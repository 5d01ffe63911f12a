"""``/account``: profile, changing the password (ends the other sessions), the
sessions themselves."""

import httpx

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Visitor

NEW = "a brand new passphrase"


def _change(browser: Visitor, current: str, new: str, confirm: str) -> httpx.Response:
    page = browser.get("/account")
    fill = {"Current password": current, "New password": new, "Confirm new password": confirm}
    return browser.submit(page, "Change password", fill)


def test_the_page_shows_who_and_where(signed_in: Visitor, person: Person) -> None:
    page = signed_in.get("/account")
    assert page.status == 200
    assert page.title == "Account · tokend"
    profile = page.doc.one("dl").text
    assert person.username in profile
    assert f"{person.username}@localhost" in profile
    assert [h.text for h in page.doc.all("h2")] == ["Profile", "Change password", "Sessions"]
    for label in ("Current password", "New password", "Confirm new password"):
        assert page.doc.labelled(label).attrs["type"] == "password"
    assert page.doc.button("Change password")
    assert page.doc.button("Sign out")
    (row,) = page.doc.all("tr", data_testid="session-row")
    assert row.attrs["data-current"] == "true"
    assert "This session" in row.text
    assert "127.0.0.1" in row.text
    assert "python-httpx" in row.text
    assert row.buttons() == ["End session"]


def test_a_password_change_ends_the_other_sessions(
    server: Server, signed_in: Visitor, person: Person
) -> None:
    with Visitor(server) as other:
        assert other.sign_in(person.username, person.password).status_code == 303
        assert len(signed_in.get("/account").doc.all("tr", data_testid="session-row")) == 2
        answer = _change(signed_in, person.password, NEW, NEW)
        assert answer.status_code == 303
        page = signed_in.follow(answer)
        assert "Your password was changed" in page.doc.one(role="status").text
        assert len(page.doc.all("tr", data_testid="session-row")) == 1
        assert other.http.get("/tokens").headers["location"] == "/login?ended=1"
    with Visitor(server) as later:
        assert later.sign_in(person.username, person.password).status_code == 400
        assert later.sign_in(person.username, NEW).status_code == 303


def test_a_wrong_or_weak_password_changes_nothing(signed_in: Visitor, person: Person) -> None:
    cases = [
        ("not my password", NEW, NEW, "current_password", "The current password is not correct."),
        (person.password, NEW, NEW + "!", "confirm_password", "not the same"),
        (person.password, "short", "short", "new_password", "at least 10 characters"),
        (person.password, person.username, person.username, "new_password", "username"),
        ("", NEW, NEW, "current_password", "Enter your current password."),
    ]
    for current, new, confirm, field, message in cases:
        page = signed_in.page(_change(signed_in, current, new, confirm))
        assert page.status == 400, field
        assert page.title == "Error: Account · tokend"
        error = page.doc.one(id=f"field-{field}-error")
        assert message in error.text
        assert error.text in page.doc.one(id=f"field-{field}").described_by()
    with Visitor(signed_in.server) as other:
        assert other.sign_in(person.username, person.password).status_code == 303


def test_ending_sessions(server: Server, signed_in: Visitor, person: Person) -> None:
    with Visitor(server) as other:
        other.sign_in(person.username, person.password)
        page = signed_in.get("/account")
        (theirs,) = [
            row
            for row in page.doc.all("tr", data_testid="session-row")
            if "data-current" not in row.attrs
        ]
        answer = signed_in.submit(page, "End session", within=theirs)
        assert answer.status_code == 303
        after = signed_in.follow(answer)
        assert "The session was ended." in after.doc.one(role="status").text
        assert len(after.doc.all("tr", data_testid="session-row")) == 1
        assert other.http.get("/tokens").headers["location"] == "/login?ended=1"

        # Ending a session that is not (or no longer) yours: not found.
        ended = signed_in.submit(page, "End session", within=theirs)
        assert ended.status_code == 404

        # Ending this one signs out.
        own = after.doc.one("tr", data_testid="session-row")
        answer = signed_in.submit(after, "End session", within=own)
        assert answer.headers["location"] == "/login"
        assert signed_in.http.get("/tokens").status_code == 303
