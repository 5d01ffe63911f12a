"""The webhook repository's switches, on both databases: disable and enable each say
whether they changed anything, and enable clears the failing clock only of a webhook
that was off."""

import uuid
from dataclasses import replace

from tokend.bootstrap import Services
from tokend.domain.webhooks import Webhook
from tokend.storage.webhooks import SqlWebhookRepository


def _webhook(services: Services) -> Webhook:
    user = services.admin.create_user(f"repo-{uuid.uuid4().hex[:10]}").user
    hook = Webhook(
        id=f"wh_repo{uuid.uuid4().hex[:16]}",
        user_id=user.id,
        team_id=None,
        url="http://127.0.0.1:9/never-called",
        events=("token.leaked",),
        created_at=1_800_000_000_000,
    )
    with services.engine.begin() as conn:
        SqlWebhookRepository(conn).add(hook, b"whsec_x", sealed=False)
    return hook


def test_disable_then_enable(services: Services) -> None:
    hook = _webhook(services)
    with services.engine.begin() as conn:
        repo = SqlWebhookRepository(conn)
        assert not repo.enable(hook.id)  # on already: nothing to do
        assert repo.mark_failing(hook.id, 1_800_000_000_100) == 1_800_000_000_100
        assert not repo.enable(hook.id)
        assert repo.get(hook.id) == replace(hook, failing_since=1_800_000_000_100)
        assert repo.disable(hook.id, 1_800_000_000_200)
        assert not repo.disable(hook.id, 1_800_000_000_300)  # the first instant stays
        assert repo.get(hook.id) == replace(
            hook, failing_since=1_800_000_000_100, disabled_at=1_800_000_000_200
        )
        assert repo.enable(hook.id)
        assert repo.get(hook.id) == hook  # neither disabled nor failing
        assert not repo.enable("wh_doesnotexist")
        assert repo.newest_created_at(hook.user_id) == hook.created_at
