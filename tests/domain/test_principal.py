"""What a token may do to other tokens."""

import dataclasses

import pytest

from tests.domain.test_tokens import make_token
from tokend.domain.accounts import User
from tokend.domain.errors import Forbidden
from tokend.domain.principal import Principal
from tokend.domain.scopes import Scope

USER = User(id="u" * 24, username="alice", email="a@x", name=None, created_at=0)


def principal(**token_changes: object) -> Principal:
    return Principal(user=USER, token=make_token(**token_changes))


def test_user_token_sees_all_of_its_users_tokens() -> None:
    me = principal()
    assert me.can_see(make_token(id="o" * 24))
    assert me.can_see(make_token(id="o" * 24, scope=Scope.team("team_a")))
    assert not me.can_see(make_token(id="o" * 24, user_id="someone-else"))


def test_team_token_sees_only_its_team() -> None:
    me = principal(scope=Scope.team("team_a"))
    assert me.can_see(make_token(scope=Scope.team("team_a")))
    assert not me.can_see(make_token(scope=Scope.team("team_b")))
    assert not me.can_see(make_token(scope=Scope.user()))


def test_team_token_creates_only_for_its_team() -> None:
    me = principal(scope=Scope.team("team_a"))
    assert me.scope_for_new_token(None) == Scope.team("team_a")
    assert me.scope_for_new_token("team_a") == Scope.team("team_a")
    with pytest.raises(Forbidden):
        me.scope_for_new_token("team_b")


def test_user_token_creates_user_or_team_tokens() -> None:
    me = principal()
    assert me.scope_for_new_token(None) == Scope.user()
    assert me.scope_for_new_token("team_a") == Scope.team("team_a")


def test_project_token_cannot_manage_tokens() -> None:
    with pytest.raises(Forbidden):
        principal(project_id="prj_1").ensure_can_manage_tokens()
    principal().ensure_can_manage_tokens()


def test_scope_needs_a_team_id_exactly_when_it_is_a_team_scope() -> None:
    with pytest.raises(ValueError, match="team"):
        dataclasses.replace(Scope.user(), team_id="team_a")
