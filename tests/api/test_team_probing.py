"""A team you are not in and a team that does not exist are refused with the same work:
the same SQL statements, in the same order, so their timing cannot tell them apart.
In-process on both databases (the statements are counted, not timed)."""

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import Account
from tokend.bootstrap import Services
from tokend.domain.errors import Forbidden
from tokend.service.tokens import TeamRef


@contextlib.contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    executed: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        executed.append(statement)

    event.listen(services.engine, "before_cursor_execute", note)
    try:
        yield executed
    finally:
        event.remove(services.engine, "before_cursor_execute", note)


def refused(services: Services, account: Account, team: TeamRef) -> list[str]:
    principal = services.authenticator.authenticate(account.token)
    with statements(services) as executed, pytest.raises(Forbidden) as refusal:
        services.tokens.create(principal, name="probe", team=team)
    assert str(refusal.value) == "The team does not exist or you are not a member of it."
    return executed


def test_a_foreign_team_and_a_missing_one_cost_the_same_statements(
    services: Services, make_user: Callable[..., Account]
) -> None:
    owner, prober = make_user("owner"), make_user("prober")
    slug = f"secret-{uuid.uuid4().hex[:8]}"
    team = services.admin.create_team(slug, owner=owner.username)
    missing_slug = f"absent-{uuid.uuid4().hex[:8]}"
    missing_id = "team_" + "A" * 24

    by_slug = refused(services, prober, TeamRef(slug=slug))
    assert by_slug == refused(services, prober, TeamRef(slug=missing_slug))
    by_id = refused(services, prober, TeamRef(team_id=team.id))
    assert by_id == refused(services, prober, TeamRef(team_id=missing_id))
    # One statement looks the team and the membership up together.
    assert len([s for s in by_slug if "memberships" in s]) == 1
