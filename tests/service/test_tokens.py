"""The token use cases on a real SQLite database, with a clock the test controls."""

import pytest
from sqlalchemy import text

from tests.service.conftest import FROZEN
from tokend.bootstrap import Services
from tokend.domain.errors import Forbidden, NotFound, RevokedToken
from tokend.domain.principal import Principal
from tokend.domain.scopes import ScopeType
from tokend.service.tokens import TeamRef, TokenService


def test_tokens_of_one_millisecond_get_distinct_cursors(
    frozen: TokenService, principal: Principal
) -> None:
    made = [frozen.create(principal, name=f"t{i}").token for i in range(5)]
    assert [token.created_at for token in made] == [FROZEN + i for i in range(5)]


def test_paging_with_a_stopped_clock_visits_each_token_once(
    frozen: TokenService, principal: Principal
) -> None:
    made = {frozen.create(principal, name=f"t{i}").token.id for i in range(10)}
    seen: list[str] = []
    page = frozen.list(principal, limit=3)
    seen += [token.id for token in page.tokens]
    while page.next is not None:
        page = frozen.list(principal, limit=3, until=page.next)
        seen += [token.id for token in page.tokens]
    assert len(seen) == len(set(seen)) == 11
    assert made | {principal.token.id} == set(seen)


def test_revoked_tokens_vanish_and_cannot_be_revoked_twice(
    services: Services, principal: Principal
) -> None:
    token = services.tokens.create(principal, name="gone").token
    assert services.tokens.revoke(principal, token.id) == token.id
    with pytest.raises(NotFound):
        services.tokens.get(principal, token.id)
    with pytest.raises(NotFound):
        services.tokens.revoke(principal, token.id)
    assert token.id not in [t.id for t in services.tokens.list(principal, limit=100).tokens]


def test_issued_token_repr_hides_the_secret(services: Services, principal: Principal) -> None:
    issued = services.tokens.create(principal, name="quiet")
    assert issued.secret not in repr(issued)
    assert issued.secret not in str(issued)


def test_rotation_keeps_name_scope_project_and_lifetime(
    services: Services, frozen: TokenService, principal: Principal
) -> None:
    lifetime = 30 * 86_400_000
    old = frozen.create(
        principal, name="deploy", expires_at=FROZEN + lifetime, project_id="prj_1"
    ).token
    new = frozen.rotate(principal, old.id)
    assert new.token.id != old.id
    assert (new.token.name, new.token.scope, new.token.project_id) == ("deploy", old.scope, "prj_1")
    assert new.token.expires_at is not None
    assert new.token.expires_at - FROZEN == lifetime
    with pytest.raises(NotFound):
        frozen.get(principal, old.id)
    assert services.authenticator.authenticate(new.secret).token.id == new.token.id


def test_rotating_current_rotates_the_calling_token(
    services: Services, principal: Principal
) -> None:
    issued = services.tokens.rotate(principal, "current")
    assert issued.token.name == principal.token.name
    assert issued.token.expires_at is None
    # The caller still holds the old principal, but writes re-read the acting token.
    with pytest.raises(RevokedToken):
        services.tokens.rotate(principal, "current")  # already rotated away


def test_a_revoked_token_can_no_longer_write_even_if_still_held(
    services: Services, principal: Principal
) -> None:
    # `principal` stands for what another node's cache still holds after the revocation
    # (its feed not heard yet): every write re-reads the acting token and refuses.
    other = services.tokens.create(principal, name="kept")
    services.tokens.revoke(principal, "current")
    with pytest.raises(RevokedToken):
        services.tokens.create(principal, name="minted by a revoked token")
    with pytest.raises(RevokedToken):
        services.tokens.revoke(principal, other.token.id)
    with pytest.raises(RevokedToken):
        services.tokens.rotate(principal, other.token.id)
    survivor = services.authenticator.authenticate(other.secret)
    assert [t.name for t in services.tokens.list(survivor).tokens] == ["kept"]


def test_rotation_of_a_team_token_needs_membership(
    services: Services, principal: Principal
) -> None:
    team = services.admin.create_team("crew", owner="alice")
    made = services.tokens.create(principal, name="crew", team=TeamRef(team_id=team.id))
    rotated = services.tokens.rotate(principal, made.token.id)
    assert rotated.token.scope.type is ScopeType.TEAM
    assert rotated.token.team_id == team.id

    with services.engine.begin() as conn:  # no command removes a member yet
        conn.execute(text("DELETE FROM memberships WHERE team_id = :t"), {"t": team.id})
    with pytest.raises(Forbidden, match="no longer a member"):
        services.tokens.rotate(principal, rotated.token.id)
    # Refused before anything changed: the token still works, and nothing was recorded.
    assert services.authenticator.authenticate(rotated.secret).token.id == rotated.token.id
    assert services.audit.list(principal).events[0].type == "token.created"


def test_a_service_token_cannot_manage_tokens(services: Services) -> None:
    service = services.admin.create_service("billing")
    caller = services.authenticator.authenticate(service.issued.secret)
    with pytest.raises(Forbidden, match="introspect"):
        services.tokens.create(caller, name="nope")
    with pytest.raises(Forbidden):
        services.tokens.rotate(caller, "current")
