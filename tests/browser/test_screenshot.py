"""The screenshot of the tokens page that the README shows: made by the browser, from a
real server, with the one-time secret of a token just created.

`docs/tokens-page.png` is rewritten only with TOKEND_UPDATE_SCREENSHOT=1, so that a
test run never dirties the tree; otherwise the picture goes to a temporary folder
(the test still makes it, so a page that cannot be drawn fails here too).
"""

import os
import time
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import Browsing, Person
from tests.browser.pages import create_token, signed_in, token_rows
from tests.support import Server
from tokend.bootstrap import Services

SCREENSHOT = Path(__file__).parents[2] / "docs" / "tokens-page.png"
DAY_MS = 24 * 3600 * 1000


def test_the_tokens_page_screenshot(
    browsing: Browsing, services: Services, server: Server, tmp_path: Path
) -> None:
    # Someone a reader recognises, in a team, with the tokens people keep. (Each
    # backend's database is new for the run: the name is free.)
    suffix = uuid.uuid4().hex[:6]
    username = "ada"
    created = services.admin.create_user(username, email="ada@example.com", name="Ada Lovelace")
    password = "analytical engine 1843"
    services.accounts.set_password(username, password)
    team = services.admin.create_team(f"acme-{suffix}", owner=username, name="Acme")
    ada = Person(username, "ada@example.com", password, created.user.id, created.issued.secret)

    now_ms = int(time.time() * 1000)
    with server.client(ada.token) as api:
        used: list[str] = []
        for name, days, team_id, in_use, permissions in [
            ("staging deploys", 90, team.id, True, None),
            ("terraform", 30, None, True, None),
            ("grafana dashboards", None, team.id, False, ["tokens:read", "events:read"]),
        ]:
            body: dict[str, object] = {"name": name}
            if days is not None:
                body["expiresAt"] = now_ms + days * DAY_MS
            if permissions is not None:
                body["permissions"] = permissions
            params = {"teamId": team_id} if team_id else {}
            response = api.post("/v3/user/tokens", json=body, params=params)
            response.raise_for_status()
            if in_use:
                used.append(response.json()["token"]["id"])
        # The first token of the account has done its job.
        api.delete("/v3/user/tokens/current").raise_for_status()
    # Their use, as the server would record it later: activeAt moves at most once a
    # minute (TOKEND_ACTIVE_AT_RESOLUTION_S), so a token used at once still reads
    # "never" for a while.
    with services.tokens.uow(write=True) as uow:
        uow.tokens.touch_many({token_id: now_ms + 1000 for token_id in used}, resolution_ms=0)
        uow.commit()

    page = browsing.new_page(viewport={"width": 1280, "height": 800})
    signed_in(page, ada)
    create_token(page, "laptop", expiration="30 days")
    expect(token_rows(page)).to_have_count(4)
    page.evaluate("() => document.fonts.ready")

    update = os.environ.get("TOKEND_UPDATE_SCREENSHOT") == "1"
    target = SCREENSHOT if update else tmp_path / SCREENSHOT.name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
    assert target.stat().st_size > 10_000
