"""The audit log: what each use case records, snapshots, and paging by createdAt."""

import pytest
from sqlalchemy import text

from tests.service.conftest import FROZEN
from tokend.bootstrap import Services
from tokend.domain.audit import EventType, Requester
from tokend.domain.errors import Forbidden, ValidationFailed
from tokend.domain.principal import Principal
from tokend.service.audit import AuditService
from tokend.service.tokens import TeamRef, TokenService

FROM = Requester(ip="203.0.113.7", user_agent="audit-test/1.0")


def types(services: Services, principal: Principal) -> list[EventType]:
    return [event.type for event in services.audit.list(principal, limit=100).events]


def test_each_change_is_recorded_newest_first(services: Services, principal: Principal) -> None:
    made = services.tokens.create(principal, name="ci", requester=FROM).token
    rotated = services.tokens.rotate(principal, made.id, requester=FROM).token
    services.tokens.revoke(principal, rotated.id, requester=FROM)

    events = services.audit.list(principal, limit=100).events
    assert [event.type for event in events] == [
        EventType.TOKEN_REVOKED,
        EventType.TOKEN_CREATED,  # the successor
        EventType.TOKEN_ROTATED,
        EventType.TOKEN_CREATED,
        EventType.TOKEN_CREATED,  # alice's bootstrap token, made by the operator
    ]
    assert [event.token_id for event in events[:4]] == [rotated.id, rotated.id, made.id, made.id]
    revoked, _, rotated_away, created, bootstrap = events
    assert revoked.token is not None
    assert revoked.token.revoked_at is not None
    assert rotated_away.token is not None
    assert rotated_away.token.revoked_at is not None
    assert created.token is not None
    assert created.token.name == "ci"
    assert created.token.revoked_at is None
    assert {event.actor_token_id for event in events[:4]} == {principal.token.id}
    assert {event.requester for event in events[:4]} == {FROM}
    assert bootstrap.actor_token_id is None
    assert bootstrap.requester == Requester()


def test_snapshots_hold_no_digest(services: Services, principal: Principal) -> None:
    issued = services.tokens.create(principal, name="plain", requester=FROM)
    with services.engine.connect() as conn:
        stored = conn.execute(text("SELECT token FROM audit_events")).scalars().all()
    assert stored
    for snapshot in stored:
        assert "digest" not in snapshot
        assert issued.secret not in snapshot
        assert issued.token.digest.hex() not in snapshot


def test_paging_with_a_stopped_clock_visits_each_event_once(
    services: Services, frozen: TokenService, principal: Principal
) -> None:
    for i in range(7):
        frozen.create(principal, name=f"t{i}")
    audit = AuditService(uow=services.tokens.uow)
    seen = []
    page = audit.list(principal, limit=3)
    seen += page.events
    while page.next is not None:
        page = audit.list(principal, limit=3, until=page.next)
        seen += page.events
    assert len(seen) == 8  # 7 creations and the bootstrap token
    assert len({event.id for event in seen}) == 8
    times = [event.created_at for event in seen]
    assert times == sorted(times, reverse=True)
    assert times[:7] == [FROZEN + i for i in reversed(range(7))]


def test_a_team_token_sees_its_team_only(services: Services, principal: Principal) -> None:
    team = services.admin.create_team("crew", owner="alice")
    in_team = services.tokens.create(principal, name="crew", team=TeamRef(team_id=team.id))
    services.tokens.create(principal, name="private")
    team_principal = services.authenticator.authenticate(in_team.secret)
    names = [e.token.name for e in services.audit.list(team_principal).events if e.token]
    assert names == ["crew"]
    assert "private" in [e.token.name for e in services.audit.list(principal).events if e.token]


def test_who_may_read_and_bad_limits(services: Services, principal: Principal) -> None:
    project = services.tokens.create(principal, name="p", project_id="prj_1")
    with pytest.raises(Forbidden):
        services.audit.list(services.authenticator.authenticate(project.secret))
    service = services.admin.create_service("billing")
    with pytest.raises(Forbidden):
        services.audit.list(services.authenticator.authenticate(service.issued.secret))
    for limit in (0, 101):
        with pytest.raises(ValidationFailed):
            services.audit.list(principal, limit=limit)
    assert types(services, principal) == [EventType.TOKEN_CREATED] * 2
