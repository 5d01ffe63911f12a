"""Invitations on the service layer: one use, 72 hours, the password rules."""

import threading
import uuid

import pytest

from tests.service.conftest import People, address, people_of
from tokend.bootstrap import Services
from tokend.domain.errors import NotFound, SessionEnded, SignInFailed
from tokend.domain.invites import LIFETIME_MS
from tokend.domain.passwords import WeakPassword
from tokend.service.accounts import InviteInvalid
from tokend.service.sessions import SignedIn

NEW_PASSWORD = "chosen on the invite page"


def test_an_invite_signs_the_person_in_once(people: People) -> None:
    alice = people.user("alice", password=None)
    made = people.accounts.invite("alice")
    assert made.user.id == alice.id
    assert made.invite.expires_at - made.invite.created_at == LIFETIME_MS == 72 * 3_600_000
    assert people.accounts.invited(made.code).id == alice.id

    signed_in = people.accounts.accept_invite(made.code, NEW_PASSWORD)

    assert signed_in.person.user.id == alice.id
    assert people.sessions.resolve(signed_in.secret)[0].user.id == alice.id
    assert people.sessions.sign_in("alice", NEW_PASSWORD)
    for use in (
        people.accounts.invited,
        lambda code: people.accounts.accept_invite(code, "x" * 20),
    ):
        with pytest.raises(InviteInvalid):
            use(made.code)


def test_accepting_an_invite_ends_the_other_sessions(people: People) -> None:
    people.user("alice")
    before = people.sessions.sign_in("alice", "a fine passphrase")
    made = people.accounts.invite("alice")  # a reset link, as it were
    people.accounts.accept_invite(made.code, NEW_PASSWORD)
    with pytest.raises(SessionEnded):
        people.sessions.resolve(before.secret)
    with pytest.raises(SignInFailed):
        people.sessions.sign_in("alice", "a fine passphrase")


def test_an_invite_expires_after_72_hours(people: People) -> None:
    people.user("alice", password=None)
    made = people.accounts.invite("alice")
    people.clock.advance(LIFETIME_MS - 1)
    assert people.accounts.invited(made.code)
    people.clock.advance(1)
    with pytest.raises(InviteInvalid):
        people.accounts.invited(made.code)
    with pytest.raises(InviteInvalid):
        people.accounts.accept_invite(made.code, NEW_PASSWORD)


def test_a_weak_password_leaves_the_invite_usable(people: People) -> None:
    people.user("alice", password=None)
    made = people.accounts.invite("alice")
    for weak in ("short", "alice", "alice@localhost", "y" * 257):
        with pytest.raises(WeakPassword):
            people.accounts.accept_invite(made.code, weak)
    assert people.accounts.accept_invite(made.code, NEW_PASSWORD)


@pytest.mark.parametrize("code", ["", "x", "a" * 43, "a" * 101, "\x00", "../../etc"])
def test_unknown_codes_are_one_error(people: People, code: str) -> None:
    with pytest.raises(InviteInvalid) as caught:
        people.accounts.invited(code)
    assert str(caught.value) == str(InviteInvalid())  # the same words, none of the code


def test_invites_only_for_people(people: People) -> None:
    people.services.admin.create_service("resource-server")
    for name in ("nobody", "resource-server"):
        with pytest.raises(NotFound):
            people.accounts.invite(name)


def test_two_invites_of_one_person_each_work_once(people: People) -> None:
    people.user("alice", password=None)
    first, second = people.accounts.invite("alice"), people.accounts.invite("alice")
    assert first.code != second.code
    people.accounts.accept_invite(second.code, NEW_PASSWORD)
    assert people.accounts.accept_invite(first.code, "yet another password")


def test_two_browsers_racing_with_one_invite(
    nodes: tuple[Services, Services], backend: str
) -> None:
    first, second = people_of(nodes[0]), people_of(nodes[1])
    username = f"racer-{backend}-{uuid.uuid4().hex[:8]}"
    first.user(username, password=None)
    made = first.accounts.invite(username)
    barrier = threading.Barrier(4)
    outcomes: list[SignedIn | Exception] = []

    def accept(node: People, password: str) -> None:
        barrier.wait()
        try:
            outcomes.append(node.accounts.accept_invite(made.code, password))
        except InviteInvalid as exc:
            outcomes.append(exc)

    threads = [
        threading.Thread(target=accept, args=(node, f"password number {i}"))
        for i, node in enumerate((first, second, first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winners = [outcome for outcome in outcomes if isinstance(outcome, SignedIn)]
    assert len(outcomes) == 4
    assert len(winners) == 1, outcomes
    # The password that won is the account's; the losers' were never set.
    assert sum(_signs_in(first, username, i) for i in range(4)) == 1
    assert first.sessions.resolve(winners[0].secret)[0].user.username == username


def _signs_in(people: People, username: str, i: int) -> bool:
    try:
        people.sessions.sign_in(username, f"password number {i}", address())
    except SignInFailed:
        return False
    return True
