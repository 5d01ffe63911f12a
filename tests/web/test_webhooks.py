"""``/webhooks``: the list, add (the signing secret shown once), a webhook's deliveries,
pause and re-enable, delete after a confirmation; on the shared server, both databases.

The URLs are public addresses written as literals (no DNS here, and the shared server
refuses private ones); they subscribe to events these tests never cause, apart from
the deliveries written straight into the outbox as already delivered or failed, so the
shared server's sender never calls them."""

from collections.abc import Callable

import pytest
from sqlalchemy import insert, select

from tests.support import Server
from tests.web.conftest import Person
from tests.web.visitor import Page, Visitor
from tokend.bootstrap import Services
from tokend.domain.webhooks import EVENT_TYPES
from tokend.service.ports import StoredWebhook
from tokend.storage.schema import webhook_attempts, webhook_deliveries, webhooks

URL = "https://1.1.1.1/tokend"
EVENTS = {"events": "token.leaked"}
EVIL = "https://evil.example"


def _add(browser: Visitor, url: str = URL, **fields: str) -> Page:
    page = browser.get("/webhooks")
    return browser.page(
        browser.submit(page, "Add webhook", {"URL": url}, values={**EVENTS, **fields})
    )


def _rows(page: Page) -> list[tuple[str, str]]:
    """Each listed webhook: its id and URL."""
    return [
        (row.attrs["data-webhook-id"], row.one("th").text)
        for row in page.doc.all("tr", data_testid="webhook-row")
    ]


def _secret_on(page: Page) -> str:
    return page.doc.one(data_testid="new-webhook-secret").text


def _api_hooks(server: Server, person: Person) -> list[dict[str, object]]:
    with server.client(person.account.token) as api:
        return list(api.get("/v1/webhooks").json()["webhooks"])


def _csrf(page: Page) -> str:
    return page.doc.all("input", name="csrf_token")[0].attrs["value"]


def test_the_page_names_its_parts(signed_in: Visitor) -> None:
    page = signed_in.get("/webhooks")
    assert page.status == 200
    assert page.title == "Webhooks · tokend"
    assert page.doc.one("h1").text == "Webhooks"
    nav = page.doc.one("nav", aria_label="Main")
    assert nav.one("a", aria_current="page").attrs["href"] == "/webhooks"
    url = page.doc.labelled("URL")
    assert (url.attrs["name"], url.attrs["type"]) == ("url", "url")
    assert "required" in url.attrs
    boxes = page.doc.all("input", name="events")
    assert [box.attrs["value"] for box in boxes] == list(EVENT_TYPES)
    assert all(page.doc.labelled(label.text) for label in page.doc.all("label"))
    assert [o.text for o in page.doc.labelled("Events of").all("option")] == ["Personal"]
    assert page.doc.button("Add webhook").attrs["type"] == "submit"
    assert "No webhooks yet" in page.doc.one(class_="empty").text
    # Every page links to it.
    assert signed_in.get("/tokens").doc.one("nav", aria_label="Main").one("a", href="/webhooks")


def test_a_new_webhook_shows_its_secret_once(
    signed_in: Visitor, person: Person, server: Server, services: Services
) -> None:
    page = _add(signed_in)
    assert page.status == 201
    assert page.response.headers["cache-control"] == "no-store"
    secret = _secret_on(page)
    assert secret.startswith("whsec_")
    assert len(page.doc.all(data_testid="new-webhook-secret")) == 1
    assert page.doc.button("Copy").attrs["data-copy"] == "new-webhook-secret"
    assert "It will not be shown again" in page.doc.one(class_="warning").text
    [(hook_id, url)] = _rows(page)
    assert url == URL
    row = page.doc.one("tr", data_webhook_id=hook_id)
    assert [cell.text for cell in row.all("td")][:3] == ["Personal", "token.leaked", "active"]
    assert row.buttons() == ["Delete"]  # nothing to re-enable

    # The secret shown is the one tokend signs with (sealed at rest).
    with services.engine.connect() as conn:
        stored = conn.execute(
            select(webhooks.c.secret, webhooks.c.secret_sealed).where(webhooks.c.id == hook_id)
        ).one()
    assert secret.encode() not in stored.secret
    opened = services.webhooks.secrets.open(
        StoredWebhook(stored.secret, bool(stored.secret_sealed))
    )
    assert opened == secret

    # Once: not on the list loaded again, nor on the webhook's page, nor in the log.
    for path in ("/webhooks", f"/webhooks/{hook_id}", f"/webhooks/{hook_id}/delete"):
        again = signed_in.get(path)
        assert again.status == 200, path
        assert secret not in again.html, path
        assert secret.removeprefix("whsec_") not in again.html, path
        assert not again.doc.all(data_testid="new-webhook-secret")
    assert [hook["id"] for hook in _api_hooks(server, person)] == [hook_id]
    assert secret not in server.log_path.read_text()


@pytest.mark.parametrize(
    ("url", "fields", "field", "message"),
    [
        ("not a url", EVENTS, "url", "must be https://"),
        ("http://1.1.1.1/plain", EVENTS, "url", "must be https://"),
        ("https://10.1.2.3/hook", EVENTS, "url", "a private address"),
        ("https://127.0.0.1/hook", EVENTS, "url", "loopback"),
        ("https://169.254.169.254/latest", EVENTS, "url", "metadata"),
        ("https://user:pw@1.1.1.1/hook", EVENTS, "url", "credentials"),
        (URL, {}, "events", "Choose at least one event"),
        (URL, {"events": "token.<b>stolen</b>"}, "events", "Unknown event type"),
        (URL, {**EVENTS, "scope": "team_not_mine"}, "scope", "Choose Personal or one of"),
    ],
)
def test_invalid_input_adds_nothing_and_says_where(
    signed_in: Visitor,
    person: Person,
    server: Server,
    url: str,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    before = signed_in.get("/webhooks")
    answer = signed_in.submit(before, "Add webhook", {"URL": url}, values=fields)
    page = signed_in.page(answer)
    assert page.status == 400
    assert page.title == "Error: Webhooks · tokend"
    error = page.doc.one(id=f"field-{field}-error")
    assert error.attrs["role"] == "alert"
    assert message in error.text
    if field != "events":
        control = page.doc.one(id=f"field-{field}")
        assert control.attrs["aria-invalid"] == "true"
        assert error.text in control.described_by()
    else:
        assert page.doc.one("fieldset").attrs["aria-describedby"] == "field-events-error"
    assert "<b>stolen</b>" not in page.html
    # What was typed and checked is kept; nothing was made.
    assert page.doc.labelled("URL").attrs["value"] == url
    checked = [box.attrs["value"] for box in page.doc.all("input", name="events", checked="")]
    assert checked == (["token.leaked"] if fields.get("events") == "token.leaked" else [])
    assert not page.doc.all(data_testid="new-webhook-secret")
    assert _rows(page) == []
    assert _api_hooks(server, person) == []


def test_an_add_form_sent_twice_adds_one(
    signed_in: Visitor, person: Person, server: Server
) -> None:
    """A reload of the page that showed the secret sends its form again: refused."""
    page = signed_in.get("/webhooks")
    first = signed_in.page(signed_in.submit(page, "Add webhook", {"URL": URL}, values=EVENTS))
    assert first.status == 201
    again = signed_in.page(signed_in.submit(page, "Add webhook", {"URL": URL}, values=EVENTS))
    assert again.status == 409
    assert "sent twice" in again.doc.one(id="form-error").text
    assert not again.doc.all(data_testid="new-webhook-secret")
    assert len(_rows(again)) == 1
    assert again.doc.labelled("URL").attrs["value"] == URL
    # The form shown with the refusal is a fresh one: sending it adds the webhook.
    fresh = signed_in.page(signed_in.submit(again, "Add webhook", values=EVENTS))
    assert fresh.status == 201
    assert len(_rows(fresh)) == 2
    assert len(_api_hooks(server, person)) == 2


@pytest.mark.parametrize(
    ("drop", "headers"),
    [(("csrf_token",), {}), ((), {"Origin": EVIL}), ((), {"Sec-Fetch-Site": "cross-site"})],
    ids=["no token", "foreign origin", "cross-site"],
)
def test_forged_forms_change_nothing(
    signed_in: Visitor,
    person: Person,
    server: Server,
    drop: tuple[str, ...],
    headers: dict[str, str],
) -> None:
    page = signed_in.get("/webhooks")
    added = signed_in.submit(
        page, "Add webhook", {"URL": URL}, values=EVENTS, drop=drop, headers=headers
    )
    assert added.status_code == 403
    assert "Request refused" in added.text
    assert _api_hooks(server, person) == []

    hook_id = _rows(_add(signed_in))[0][0]
    shown = signed_in.get(f"/webhooks/{hook_id}")
    paused = signed_in.submit(shown, "Pause", drop=drop, headers=headers)
    assert paused.status_code == 403
    asked = signed_in.get(f"/webhooks/{hook_id}/delete")
    deleted = signed_in.submit(asked, "Delete webhook", drop=drop, headers=headers)
    assert deleted.status_code == 403
    [hook] = _api_hooks(server, person)
    assert hook["id"] == hook_id
    assert "disabledAt" not in hook


def test_someone_elses_webhook_is_not_found(
    signed_in: Visitor, person: Person, server: Server, make_person: Callable[..., Person]
) -> None:
    other = make_person("other")
    with Visitor(server) as theirs:
        theirs.sign_in(other.username, other.password)
        hook_id = _rows(_add(theirs))[0][0]
    page = signed_in.get("/webhooks")
    assert _rows(page) == []
    csrf = _csrf(page)
    for target in (hook_id, "wh_nosuchwebhook"):
        for path in (f"/webhooks/{target}", f"/webhooks/{target}/delete"):
            answer = signed_in.get(path)
            assert answer.status == 404, path
            assert "The webhook was not found." in answer.html
        for action in ("delete", "enable", "disable"):
            sent = signed_in.http.post(f"/webhooks/{target}/{action}", data={"csrf_token": csrf})
            assert sent.status_code == 404, action
    [theirs_now] = _api_hooks(server, other)
    assert theirs_now["id"] == hook_id
    assert "disabledAt" not in theirs_now


def test_delete_asks_first(signed_in: Visitor, person: Person, server: Server) -> None:
    hook_id = _rows(_add(signed_in))[0][0]
    page = signed_in.get("/webhooks")
    asked = signed_in.page(
        signed_in.submit(page, "Delete", within=page.doc.one("tr", data_webhook_id=hook_id))
    )
    assert asked.status == 200
    assert asked.title == "Delete a webhook · tokend"
    assert URL in asked.doc.one("main").text
    assert asked.doc.buttons()[-1] == "Delete webhook"
    assert len(_api_hooks(server, person)) == 1  # asking changed nothing

    answer = signed_in.submit(asked, "Delete webhook")
    assert answer.status_code == 303
    after = signed_in.follow(answer)
    assert "was deleted" in after.doc.one(role="status").text
    assert _rows(after) == []
    assert _api_hooks(server, person) == []
    again = signed_in.submit(asked, "Delete webhook")  # the confirmation sent twice
    assert again.status_code == 404


def _state(page: Page) -> str:
    return page.doc.one(data_testid="webhook-state").text


def test_pause_and_re_enable(
    signed_in: Visitor, person: Person, server: Server, services: Services
) -> None:
    hook_id = _rows(_add(signed_in))[0][0]
    shown = signed_in.get(f"/webhooks/{hook_id}")
    assert _state(shown) == "active"
    answer = signed_in.submit(shown, "Pause")
    assert answer.headers["location"] == f"/webhooks/{hook_id}?notice=disabled"
    paused = signed_in.follow(answer)
    assert _state(paused).startswith("disabled ")
    assert "paused" in paused.doc.one(role="status").text
    assert "Pause" not in paused.doc.buttons()
    [hook] = _api_hooks(server, person)
    assert "disabledAt" in hook

    listed = signed_in.get("/webhooks")
    row = listed.doc.one("tr", data_webhook_id=hook_id)
    assert row.buttons() == ["Re-enable", "Delete"]
    enabled = signed_in.follow(signed_in.submit(listed, "Re-enable", within=row))
    assert _state(enabled) == "active"
    assert "stay failed" in enabled.doc.one(role="status").text
    assert "disabledAt" not in _api_hooks(server, person)[0]


def test_a_webhook_disabled_for_failing_is_turned_back_on(
    signed_in: Visitor, person: Person, server: Server, services: Services
) -> None:
    hook_id = _rows(_add(signed_in))[0][0]
    # What the sender does after days of failed deliveries.
    with services.tokens.uow(write=True) as uow:
        uow.webhooks.mark_failing(hook_id, 1_700_000_000_000)
        uow.commit()
    assert _state(signed_in.get(f"/webhooks/{hook_id}")).startswith("failing since ")
    with services.tokens.uow(write=True) as uow:
        uow.webhooks.disable(hook_id, 1_700_100_000_000)
        uow.commit()
    shown = signed_in.get(f"/webhooks/{hook_id}")
    assert _state(shown).startswith("disabled ")
    assert "stay failed" in shown.doc.one("section", class_="card").text
    back = signed_in.follow(signed_in.submit(shown, "Re-enable"))
    assert _state(back) == "active"
    [hook] = _api_hooks(server, person)
    assert "failingSince" not in hook
    assert "disabledAt" not in hook


def test_deliveries_and_their_attempts_are_shown(signed_in: Visitor, services: Services) -> None:
    hook_id = _rows(_add(signed_in))[0][0]
    assert "No deliveries yet" in signed_in.get(f"/webhooks/{hook_id}").doc.one(class_="empty").text
    now = 1_800_000_000_000
    with services.engine.begin() as conn:
        for number, status in ((1, "failed"), (2, "delivered")):
            conn.execute(
                insert(webhook_deliveries).values(
                    id=f"msg_webtest{hook_id[-8:]}{number}",
                    webhook_id=hook_id,
                    event_type="token.leaked",
                    payload="{}",
                    created_at=now + number,
                    status=status,
                    attempts=2,
                    next_attempt_at=now,
                )
            )
        conn.execute(
            insert(webhook_attempts),
            [
                {"delivery_id": f"msg_webtest{hook_id[-8:]}1", "attempted_at": now + 10,
                 "duration_ms": 10_004, "status_code": None, "error": "timed out after 10 s"},
                {"delivery_id": f"msg_webtest{hook_id[-8:]}2", "attempted_at": now + 20,
                 "duration_ms": 31, "status_code": 503, "error": "not a 2xx answer"},
                {"delivery_id": f"msg_webtest{hook_id[-8:]}2", "attempted_at": now + 30,
                 "duration_ms": 12, "status_code": 204, "error": None},
            ],
        )  # fmt: skip
    page = signed_in.get(f"/webhooks/{hook_id}")
    rows = page.doc.all("tr", data_testid="delivery-row")
    assert [row.one("th").text for row in rows] == ["token.leaked", "token.leaked"]
    delivered, failed = rows  # newest first
    assert delivered.all("td")[0].text == "delivered"
    attempts = [item.text for item in delivered.all("li", data_testid="attempt")]
    assert len(attempts) == 2
    assert attempts[0].endswith(": HTTP 204, 12 ms")  # newest first
    assert attempts[1].endswith(": HTTP 503, not a 2xx answer, 31 ms")
    assert delivered.all("time")[1].attrs["datetime"] == "2027-01-15T08:00:00Z"
    assert failed.all("td")[0].text == "failed"
    [attempt] = [item.text for item in failed.all("li", data_testid="attempt")]
    assert attempt.endswith(": timed out after 10 s, 10004 ms")


def test_a_hostile_url_is_text_never_markup(signed_in: Visitor) -> None:
    url = 'https://1.1.1.1/"><script>alert(1)</script><img/src=x/onerror=alert(2)>'
    page = _add(signed_in, url)
    assert page.status == 201
    hook_id = _rows(page)[0][0]
    for shown in (page, signed_in.get("/webhooks"), signed_in.get(f"/webhooks/{hook_id}"),
                  signed_in.get(f"/webhooks/{hook_id}/delete")):  # fmt: skip
        assert "<script>alert(1)" not in shown.html
        assert "<img/src=x" not in shown.html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.html
        assert not shown.doc.all("script", src="")[1:]  # only our copy.js
        assert not shown.doc.all("img", onerror="")
    assert _rows(signed_in.get("/webhooks")) == [(hook_id, url)]
    assert signed_in.get(f"/webhooks/{hook_id}").doc.one("h1").text == url


def test_a_team_webhook(
    signed_in: Visitor, person: Person, services: Services, server: Server
) -> None:
    team = services.admin.create_team(
        f"t-{person.username[-10:]}", owner=person.username, name="Platform"
    )
    page = signed_in.get("/webhooks")
    scopes = page.doc.labelled("Events of").all("option")
    assert [(o.attrs["value"], o.text) for o in scopes] == [
        ("personal", "Personal"),
        (team.id, f"Platform ({team.slug})"),
    ]
    added = signed_in.page(
        signed_in.submit(page, "Add webhook", {"URL": URL}, values={**EVENTS, "scope": team.id})
    )
    assert added.status == 201
    [(hook_id, _)] = _rows(added)
    assert added.doc.one("tr", data_webhook_id=hook_id).all("td")[0].text == "Platform"
    # A token of the team sees it as the team's.
    with server.client(person.account.token) as api:
        made = api.post("/v3/user/tokens", json={"name": "team"}, params={"teamId": team.id})
    with server.client(made.json()["bearerToken"]) as api:
        [hook] = api.get("/v1/webhooks").json()["webhooks"]
    assert (hook["id"], hook["teamId"]) == (hook_id, team.id)
