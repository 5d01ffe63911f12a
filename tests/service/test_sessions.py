"""Signing in and the sessions that follow, on the service layer: who gets in, how
failures are limited (per address, per account, across nodes), how sessions end."""

import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.service.conftest import ADDRESS_LIMIT, PASSWORD, People, address, people_of
from tokend.bootstrap import Services
from tokend.domain.errors import (
    NotFound,
    RateLimited,
    SessionEnded,
    SignInFailed,
    SignInLocked,
)
from tokend.domain.passwords import WeakPassword
from tokend.service.accounts import WrongPassword
from tokend.service.sessions import ACCOUNT_FAILURE_LIMIT, ACCOUNT_FAILURE_WINDOW_MS

HOUR_MS = 3_600_000


# --- who gets in ------------------------------------------------------------------------


def test_sign_in_by_username_or_email_in_any_case(people: People) -> None:
    alice = people.user("alice")

    for login in ("alice", "alice@localhost", "ALICE@LocalHost", "  alice  "):
        signed_in = people.sessions.sign_in(login, PASSWORD, address())
        assert signed_in.person.user.id == alice.id
        person, session = people.sessions.resolve(signed_in.secret)
        assert person.user.id == alice.id
        assert session.id == signed_in.session.id


def test_wrong_password_and_unknown_user_are_the_same_failure(people: People) -> None:
    people.user("alice")
    wrong = _failure(lambda: people.sessions.sign_in("alice", "not the password", address()))
    unknown = _failure(lambda: people.sessions.sign_in("nobody", PASSWORD, address()))
    empty = _failure(lambda: people.sessions.sign_in("", "", address()))
    assert type(wrong) is type(unknown) is type(empty) is SignInFailed
    assert str(wrong) == str(unknown) == str(empty)


def _failure(attempt: Callable[[], object]) -> Exception:
    with pytest.raises(SignInFailed) as caught:
        attempt()
    return caught.value


def test_wrong_password_and_unknown_user_take_the_same_time(people: People) -> None:
    people.user("alice")
    people.sessions.passwords.warm()

    def timed(login: str) -> float:
        started = time.perf_counter()
        with pytest.raises(SignInFailed):
            people.sessions.sign_in(login, "not the password", address())
        return time.perf_counter() - started

    # Interleaved, so that a busy moment of the machine falls on both alike. Seven of
    # each stay below the account limit of ten.
    wrong, unknown = [], []
    for _ in range(7):
        wrong.append(timed("alice"))
        unknown.append(timed("nobody-here"))
    fast, slow = sorted([statistics.median(wrong), statistics.median(unknown)])
    # Both pay one argon2id verification (~0.1 s): a difference of more than a third
    # would tell an account that exists from one that does not.
    assert fast > 0.02, (wrong, unknown)
    assert slow / fast < 1.5, (wrong, unknown)


def test_a_service_account_cannot_sign_in(people: People) -> None:
    service = people.services.admin.create_service("resource-server").user
    with pytest.raises(SignInFailed):
        people.sessions.sign_in(service.username, PASSWORD, address())
    with pytest.raises(NotFound):
        people.accounts.set_password(service.username, PASSWORD)


def test_a_user_without_a_password_cannot_sign_in(people: People) -> None:
    people.user("carol", password=None)
    for password in ("", PASSWORD):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in("carol", password, address())


# --- the account limit ------------------------------------------------------------------


def test_ten_failures_lock_the_account_for_the_window(people: People) -> None:
    alice = people.user("alice")
    token = people.services.admin.create_user("alice-tokens").issued  # another account
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in("alice", "wrong password", address())

    # Locked: even the right password, by username or email, from anywhere.
    for login in ("alice", "ALICE@localhost"):
        with pytest.raises(SignInLocked) as locked:
            people.sessions.sign_in(login, PASSWORD, address())
        assert locked.value.retry_after_s == ACCOUNT_FAILURE_WINDOW_MS // 1000
    assert "15 minutes" in str(locked.value)
    # Another account is not locked with it, and tokens keep working.
    assert people.services.authenticator.authenticate(token.secret).user.username == (
        "alice-tokens"
    )

    people.clock.advance(ACCOUNT_FAILURE_WINDOW_MS - 1)
    with pytest.raises(SignInLocked):
        people.sessions.sign_in("alice", PASSWORD, address())
    people.clock.advance(1)
    assert people.sessions.sign_in("alice", PASSWORD, address()).person.user.id == alice.id


def test_a_locked_account_keeps_its_tokens_working(people: People) -> None:
    created = people.services.admin.create_user("dave")
    people.accounts.set_password("dave", PASSWORD)
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in("dave", "wrong password", address())
    with pytest.raises(SignInLocked):
        people.sessions.sign_in("dave", PASSWORD, address())
    principal = people.services.authenticator.authenticate(created.issued.secret)
    assert principal.user.id == created.user.id


def test_an_unknown_name_locks_as_an_account_would(people: People) -> None:
    # Otherwise the eleventh attempt would tell which names are accounts.
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in("Ghost", "any password", address())
    with pytest.raises(SignInLocked):
        people.sessions.sign_in("ghost", "any password", address())
    people.clock.advance(ACCOUNT_FAILURE_WINDOW_MS)
    with pytest.raises(SignInFailed):
        people.sessions.sign_in("ghost", "any password", address())


def test_the_account_limit_is_shared_by_nodes(
    nodes: tuple[Services, Services], backend: str
) -> None:
    clock = people_of(nodes[0]).clock
    first, second = people_of(nodes[0], clock), people_of(nodes[1], clock)
    username = f"shared-{backend}-{uuid.uuid4().hex[:8]}"
    first.user(username)
    for attempt in range(ACCOUNT_FAILURE_LIMIT):
        node = (first, second)[attempt % 2]  # a load balancer's round robin
        with pytest.raises(SignInFailed):
            node.sessions.sign_in(username, "wrong password", address())
    ghost = f"ghost-{username}"  # an unknown name is counted alike
    for attempt in range(ACCOUNT_FAILURE_LIMIT):
        node = (first, second)[attempt % 2]
        with pytest.raises(SignInFailed):
            node.sessions.sign_in(ghost, PASSWORD, address())
    for node in (first, second):
        for name in (username, ghost):
            with pytest.raises(SignInLocked):
                node.sessions.sign_in(name, PASSWORD, address())
    clock.advance(ACCOUNT_FAILURE_WINDOW_MS)
    assert second.sessions.sign_in(username, PASSWORD, address())


# --- the address limit ------------------------------------------------------------------


def test_failures_from_one_address_are_limited(people: People) -> None:
    people.user("alice")
    people.user("bob")
    crowd = address()
    names = ["alice", "bob", "nobody"]
    for attempt in range(ADDRESS_LIMIT):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in(names[attempt % 3], "wrong password", crowd)
    with pytest.raises(RateLimited):  # the one too many
        people.sessions.sign_in("alice", "wrong password", crowd)
    # Blocked for the window: even the right password, before any hashing.
    with pytest.raises(RateLimited) as limited:
        people.sessions.sign_in("bob", PASSWORD, crowd)
    assert 0 < limited.value.retry_after_s <= 60
    # Other addresses are not.
    assert people.sessions.sign_in("bob", PASSWORD, address())
    people.clock.advance(60_000)
    assert people.sessions.sign_in("bob", PASSWORD, crowd)


# --- sessions ------------------------------------------------------------------------


def test_idle_timeout(people: People) -> None:
    people.user("alice")
    signed_in = people.sessions.sign_in("alice", PASSWORD, address())
    idle = people.sessions.policy.idle_ms

    for _ in range(3):  # used now and then, it lives on past one idle period
        people.clock.advance(idle - 60_000)
        people.sessions.resolve(signed_in.secret)
    people.clock.advance(idle)
    with pytest.raises(SessionEnded):
        people.sessions.resolve(signed_in.secret)


def test_absolute_timeout(people: People) -> None:
    people.user("alice")
    signed_in = people.sessions.sign_in("alice", PASSWORD, address())
    absolute = people.sessions.policy.absolute_ms
    assert people.sessions.policy.idle_ms == 12 * HOUR_MS
    assert absolute == 7 * 24 * HOUR_MS

    while people.clock.now + HOUR_MS < signed_in.session.created_at + absolute:
        people.clock.advance(HOUR_MS)  # in use every hour, never idle
        people.sessions.resolve(signed_in.secret)
    people.clock.advance(HOUR_MS)
    with pytest.raises(SessionEnded):
        people.sessions.resolve(signed_in.secret)


def test_timeouts_are_settings(people: People) -> None:
    people.user("alice")
    short = replace(
        people.sessions, policy=replace(people.sessions.policy, idle_ms=1000, absolute_ms=5000)
    )
    signed_in = short.sign_in("alice", PASSWORD, address())
    people.clock.advance(1000)
    with pytest.raises(SessionEnded):
        short.resolve(signed_in.secret)


def test_unknown_and_odd_cookies_are_not_signed_in(people: People) -> None:
    for secret in (None, "", "x", "a" * 101, "a" * 100_000, "\x00", "é" * 43):
        with pytest.raises(SessionEnded):
            people.sessions.resolve(secret)


def test_sign_out_ends_the_session(people: People) -> None:
    people.user("alice")
    signed_in = people.sessions.sign_in("alice", PASSWORD, address())
    other = people.sessions.sign_in("alice", PASSWORD, address())

    people.sessions.sign_out(signed_in.person)

    with pytest.raises(SessionEnded):
        people.sessions.resolve(signed_in.secret)
    assert people.sessions.resolve(other.secret)
    people.sessions.sign_out(signed_in.person)  # twice: nothing more happens


def test_end_another_session(people: People) -> None:
    people.user("alice")
    people.user("bob")
    laptop = people.sessions.sign_in("alice", PASSWORD, address())
    people.clock.advance(1)
    phone = people.sessions.sign_in("alice", PASSWORD, address())
    bobs = people.sessions.sign_in("bob", PASSWORD, address())

    listed = people.sessions.list(laptop.person)
    assert [s.id for s in listed] == [phone.session.id, laptop.session.id]  # newest first
    assert listed[0].requester.user_agent == "pytest"

    people.sessions.end(laptop.person, phone.session.id)
    with pytest.raises(SessionEnded):
        people.sessions.resolve(phone.secret)
    assert people.sessions.resolve(laptop.secret)
    with pytest.raises(NotFound):  # somebody else's session
        people.sessions.end(laptop.person, bobs.session.id)
    assert people.sessions.resolve(bobs.secret)
    with pytest.raises(NotFound):
        people.sessions.end(laptop.person, "ses_nothing")


def test_password_change_ends_the_other_sessions_only(people: People) -> None:
    people.user("alice")
    here = people.sessions.sign_in("alice", PASSWORD, address())
    elsewhere = people.sessions.sign_in("alice", PASSWORD, address())

    with pytest.raises(WrongPassword):
        people.accounts.change_password(here.person, "not it at all", "a new passphrase")
    with pytest.raises(WeakPassword):
        people.accounts.change_password(here.person, PASSWORD, "short")
    assert people.sessions.resolve(elsewhere.secret)  # failed changes end nothing

    people.accounts.change_password(here.person, PASSWORD, "a new passphrase")

    assert people.sessions.resolve(here.secret)
    with pytest.raises(SessionEnded):
        people.sessions.resolve(elsewhere.secret)
    with pytest.raises(SignInFailed):
        people.sessions.sign_in("alice", PASSWORD, address())
    assert people.sessions.sign_in("alice", "a new passphrase", address())


def test_set_password_ends_every_session(people: People) -> None:
    people.user("alice")
    sessions = [people.sessions.sign_in("alice", PASSWORD, address()) for _ in range(2)]

    people.accounts.set_password("alice", "an operator's choice")

    for signed_in in sessions:
        with pytest.raises(SessionEnded):
            people.sessions.resolve(signed_in.secret)
    with pytest.raises(NotFound):
        people.accounts.set_password("nobody", "an operator's choice")


@pytest.mark.parametrize(
    "password", ["", "123456789", "x" * 257, "alice", "ALICE@localhost", "Alice@LOCALHOST"]
)
def test_weak_passwords_are_refused(people: People, password: str) -> None:
    people.user("alice")
    with pytest.raises(WeakPassword):
        people.accounts.set_password("alice", password)
    assert people.sessions.sign_in("alice", PASSWORD, address())  # unchanged


def test_the_longest_and_unicode_passwords(people: People) -> None:
    people.user("alice")
    for password in ("p" * 256, "pässwörd · ünïcödé 🔑", "ten chars!"):
        people.accounts.set_password("alice", password)
        assert people.sessions.sign_in("alice", password, address())


def test_guessing_the_current_password_counts_as_failed_sign_ins(people: People) -> None:
    """A stolen session cannot guess the password through the change form any faster
    than through the sign-in form: the same count, the same lock."""
    people.user("alice")
    here = people.sessions.sign_in("alice", PASSWORD, address())
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(WrongPassword, match="not correct"):
            people.accounts.change_password(
                here.person, "a wrong guess", "a new passphrase", address()
            )
    with pytest.raises(WrongPassword, match="Too many failed sign-ins"):
        people.accounts.change_password(here.person, PASSWORD, "a new passphrase", address())
    with pytest.raises(SignInLocked):
        people.sessions.sign_in("alice", PASSWORD, address())
    people.clock.advance(ACCOUNT_FAILURE_WINDOW_MS)
    people.accounts.change_password(here.person, PASSWORD, "a new passphrase", address())


def test_concurrent_guesses_never_pass_the_limit(people: People) -> None:
    """Twenty wrong passwords at once (threads, as several nodes would send them): each
    is counted before it is checked, so exactly the limit reach the password check."""
    people.user("alice")
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        try:
            people.sessions.sign_in("alice", "a wrong guess", address())
        except (SignInFailed, SignInLocked) as error:
            with lock:
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=guess) for _ in range(2 * ACCOUNT_FAILURE_LIMIT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("SignInFailed") == ACCOUNT_FAILURE_LIMIT
    assert outcomes.count("SignInLocked") == ACCOUNT_FAILURE_LIMIT


def test_a_right_password_takes_back_its_count(people: People) -> None:
    people.user("alice")
    for _ in range(ACCOUNT_FAILURE_LIMIT - 1):
        with pytest.raises(SignInFailed):
            people.sessions.sign_in("alice", "a wrong guess", address())
    for _ in range(3):  # each counted while checked, then refunded
        people.sessions.sign_in("alice", PASSWORD, address())
    with pytest.raises(SignInFailed):  # the tenth failure, not a lock
        people.sessions.sign_in("alice", "a wrong guess", address())
    with pytest.raises(SignInLocked):
        people.sessions.sign_in("alice", PASSWORD, address())
