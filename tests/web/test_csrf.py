"""A forged request changes nothing: no CSRF token, a wrong one, another site's
``Origin`` or ``Sec-Fetch-Site``: 403. The JSON API (a bearer token, no cookie) is
not concerned."""

import pytest

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Visitor, token_rows

EVIL = "https://evil.example"


def _names(browser: Visitor) -> list[str]:
    return [row.one("th").text for row in token_rows(browser.get("/tokens"))]


def _refused(answer_status: int, text: str) -> None:
    assert answer_status == 403
    assert "Request refused" in text


@pytest.mark.parametrize(
    ("drop", "fields", "headers"),
    [
        (("csrf_token",), {}, {}),
        ((), {"csrf_token": "made-up"}, {}),
        ((), {}, {"Origin": EVIL}),
        ((), {}, {"Origin": "null"}),
        ((), {}, {"Sec-Fetch-Site": "cross-site"}),
        ((), {}, {"Sec-Fetch-Site": "same-site"}),
    ],
    ids=["no token", "wrong token", "foreign origin", "null origin", "cross-site", "same-site"],
)
def test_a_forged_create_is_refused(
    signed_in: Visitor,
    drop: tuple[str, ...],
    fields: dict[str, str],
    headers: dict[str, str],
) -> None:
    before = _names(signed_in)
    page = signed_in.get("/tokens")
    answer = signed_in.submit(
        page, "Create token", {"Name": "forged"}, drop=drop, headers=headers, values=fields
    )
    _refused(answer.status_code, answer.text)
    assert "text/html" in answer.headers["content-type"]
    assert _names(signed_in) == before


def test_our_own_origin_is_welcome(signed_in: Visitor, server: Server) -> None:
    page = signed_in.get("/tokens")
    headers = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    answer = signed_in.submit(page, "Create token", {"Name": "from here"}, headers=headers)
    assert answer.status_code == 201


def test_a_forged_revoke_or_rotate_is_refused(signed_in: Visitor) -> None:
    page = signed_in.get("/tokens")
    row = token_rows(page)[0]
    token_id = row.attrs["data-token-id"]
    rotate = signed_in.submit(page, "Rotate", within=row, headers={"Origin": EVIL})
    _refused(rotate.status_code, rotate.text)
    confirm = signed_in.page(signed_in.submit(page, "Revoke", within=row))
    revoke = signed_in.submit(confirm, "Revoke token", drop=("csrf_token",))
    _refused(revoke.status_code, revoke.text)
    assert token_id in [r.attrs["data-token-id"] for r in token_rows(signed_in.get("/tokens"))]


def test_a_forged_sign_out_is_refused(signed_in: Visitor) -> None:
    page = signed_in.get("/account")
    answer = signed_in.submit(page, "Sign out", headers={"Origin": EVIL})
    _refused(answer.status_code, answer.text)
    answer = signed_in.submit(page, "Sign out", drop=("csrf_token",))
    _refused(answer.status_code, answer.text)
    assert signed_in.get("/tokens").status == 200  # still signed in


def test_a_forged_password_change_is_refused(signed_in: Visitor, person: Person) -> None:
    page = signed_in.get("/account")
    fill = {
        "Current password": person.password,
        "New password": "an attacker's choice",
        "Confirm new password": "an attacker's choice",
    }
    answer = signed_in.submit(page, "Change password", fill, headers={"Origin": EVIL})
    _refused(answer.status_code, answer.text)
    with Visitor(signed_in.server) as other:
        assert other.sign_in(person.username, person.password).status_code == 303


def test_the_sign_in_form_needs_its_cookie(visitor: Visitor, person: Person) -> None:
    page = visitor.get("/login")
    fill = {"Username or email": person.username, "Password": person.password}
    # Another site's page posting a sign-in (login CSRF): it cannot read our cookie.
    visitor.http.cookies.clear()
    answer = visitor.submit(page, "Sign in", fill)
    _refused(answer.status_code, answer.text)
    assert "tokend_session" not in visitor.http.cookies
    page = visitor.get("/login")
    answer = visitor.submit(page, "Sign in", fill, headers={"Origin": EVIL})
    _refused(answer.status_code, answer.text)
    answer = visitor.submit(page, "Sign in", fill, csrf_token="x" * 43)
    _refused(answer.status_code, answer.text)
    assert visitor.submit(page, "Sign in", fill).status_code == 303


def test_the_api_with_a_bearer_token_is_not_concerned(server: Server, person: Person) -> None:
    with server.client(person.account.token) as api:
        made = api.post(
            "/v3/user/tokens",
            json={"name": "from a program"},
            headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        )
    assert made.status_code == 200
