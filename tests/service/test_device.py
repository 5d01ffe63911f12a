"""Device authorization (RFC 8628) on the service layer: the device's side (start,
poll) and the person's (pending, decide), with a clock the tests move."""

import threading
import uuid

import pytest

from tests.service.conftest import ADDRESS_LIMIT, People, address, people_of
from tokend.bootstrap import Services
from tokend.domain.audit import EventType, Requester
from tokend.domain.device import (
    INTERVAL_S,
    LIFETIME_MS,
    MAX_PENDING_PER_ADDRESS,
    USER_CODE_ALPHABET,
    DeviceStatus,
    format_user_code,
)
from tokend.domain.errors import (
    DeviceFlowError,
    NotFound,
    RateLimited,
    TooManyDeviceCodes,
    ValidationFailed,
)
from tokend.domain.principal import Person
from tokend.service.device import KEEP_EXPIRED_MS, DeviceGrant
from tokend.service.tokens import IssuedToken

CLIENT = "tokend-cli"


def signed_in(people: People, username: str = "alice") -> Person:
    people.user(username)
    return people.sessions.sign_in(username, "a fine passphrase", address()).person


def code_of(people: People, grant: DeviceGrant, client_id: str = CLIENT) -> str:
    """The RFC 8628 error a poll answers."""
    with pytest.raises(DeviceFlowError) as caught:
        people.devices.poll(grant.device_code, client_id)
    return caught.value.code


def test_start_gives_codes_to_show_and_to_keep(people: People) -> None:
    grant = people.devices.start(CLIENT, name="laptop")
    assert len(grant.user_code) == 8
    assert set(grant.user_code) <= set(USER_CODE_ALPHABET)
    assert (grant.expires_in_s, grant.interval_s) == (LIFETIME_MS // 1000, INTERVAL_S) == (600, 5)
    assert len(grant.device_code) >= 40
    assert grant.device_code not in repr(grant)
    assert people.devices.start(CLIENT).user_code != grant.user_code


def test_pending_then_slow_down_adds_five_seconds(people: People) -> None:
    grant = people.devices.start(CLIENT)
    assert code_of(people, grant) == "authorization_pending"

    people.clock.advance(1_000)  # far sooner than 5 s
    with pytest.raises(DeviceFlowError, match="wait 10 seconds") as slowed:
        people.devices.poll(grant.device_code, CLIENT)
    assert slowed.value.code == "slow_down"

    people.clock.advance(5_000)  # the old interval is no longer enough
    assert code_of(people, grant) == "slow_down"
    people.clock.advance(15_000)  # 10 + 5 more
    assert code_of(people, grant) == "authorization_pending"
    people.clock.advance(15_000)  # the interval stays where it got to
    assert code_of(people, grant) == "authorization_pending"


def test_approval_hands_out_exactly_one_token_named_after_the_device(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT, name="build box 7")
    assert people.devices.pending(grant.user_code, address()).name == "build box 7"

    people.devices.decide(person, grant.user_code, approve=True, requester=address())
    issued = people.devices.poll(grant.device_code, CLIENT, Requester(ip="192.0.2.7"))

    assert isinstance(issued, IssuedToken)
    assert issued.token.name == "build box 7"
    assert issued.token.user_id == person.user.id
    assert issued.token.expires_at is None
    assert issued.token.team_id is None
    assert people.services.authenticator.authenticate(issued.secret).user.id == person.user.id
    listed = people.services.tokens.list(person).tokens
    assert [t.id for t in listed if t.name == "build box 7"] == [issued.token.id]
    for _ in range(2):
        assert code_of(people, grant) == "invalid_grant"

    events = people.services.audit.list(person).events
    created = next(e for e in events if e.type is EventType.TOKEN_CREATED)
    assert created.token_id == issued.token.id
    assert created.requester.ip == "192.0.2.7"  # the device that fetched it
    assert EventType.DEVICE_APPROVED in {e.type for e in events}


def test_the_default_name(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT)
    people.devices.decide(person, grant.user_code, approve=True)
    assert people.devices.poll(grant.device_code, CLIENT).token.name == "Device login"


def test_denied(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT)
    people.devices.decide(person, grant.user_code, approve=False)
    for _ in range(2):
        assert code_of(people, grant) == "access_denied"
    assert EventType.DEVICE_DENIED in {e.type for e in people.services.audit.list(person).events}
    assert not [t for t in people.services.tokens.list(person).tokens if t.name == "Device login"]


def test_a_decision_is_final(people: People) -> None:
    person = signed_in(people)
    for first in (True, False):
        grant = people.devices.start(CLIENT)
        people.devices.decide(person, grant.user_code, approve=first)
        for second in (True, False):
            with pytest.raises(NotFound):
                people.devices.decide(person, grant.user_code, approve=second)


def test_expired(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT)
    approved = people.devices.start(CLIENT)
    people.devices.decide(person, approved.user_code, approve=True)
    people.clock.advance(LIFETIME_MS)

    assert code_of(people, grant) == "expired_token"
    assert code_of(people, approved) == "expired_token"  # approved, but fetched too late
    with pytest.raises(NotFound):
        people.devices.pending(grant.user_code, address())
    with pytest.raises(NotFound):
        people.devices.decide(person, grant.user_code, approve=True, requester=address())

    # Kept a while, then gone: a very late poll is an unknown code.
    people.clock.advance(KEEP_EXPIRED_MS + 1)
    people.devices.start(CLIENT)  # starting prunes
    assert code_of(people, grant) == "invalid_grant"


def test_user_codes_typed_in_any_case_with_or_without_hyphen(people: People) -> None:
    person = signed_in(people)
    for typed in (str.lower, format_user_code, lambda c: format_user_code(c).lower(),
                  lambda c: f"  {c[:4]} {c[4:]} ", lambda c: c.title()):  # fmt: skip
        grant = people.devices.start(CLIENT)
        found = people.devices.pending(typed(grant.user_code), address())
        assert found.status is DeviceStatus.PENDING
        people.devices.decide(person, typed(grant.user_code), approve=True, requester=address())
        assert people.devices.poll(grant.device_code, CLIENT)


def test_another_client_id_gets_nothing(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT)
    people.devices.decide(person, grant.user_code, approve=True)
    assert code_of(people, grant, client_id="someone-else") == "invalid_grant"
    assert people.devices.poll(grant.device_code, CLIENT)  # still there for the device


@pytest.mark.parametrize("device_code", ["", "x", "a" * 101, "\x00" * 40])
def test_unknown_device_codes(people: People, device_code: str) -> None:
    with pytest.raises(DeviceFlowError) as caught:
        people.devices.poll(device_code, CLIENT)
    assert caught.value.code == "invalid_grant"


def test_wrong_codes_count_against_the_address(people: People) -> None:
    person = signed_in(people)
    grant = people.devices.start(CLIENT)
    guesser = address()
    wrong = ["BCDFGHJK", "bcdf-ghjk", "AEIOUAEI", "short", ""]  # guesses and typos alike
    assert len(wrong) == ADDRESS_LIMIT
    for guess in wrong:
        with pytest.raises(NotFound, match="not valid"):
            people.devices.pending(guess, guesser)
    with pytest.raises(RateLimited):  # one too many
        people.devices.pending("ZZZZZZZZ", guesser)
    # Blocked for the window, the right code too; other addresses are not.
    with pytest.raises(RateLimited):
        people.devices.decide(person, grant.user_code, approve=True, requester=guesser)
    assert people.devices.pending(grant.user_code, address())
    people.clock.advance(60_000)
    people.devices.decide(person, grant.user_code, approve=True, requester=guesser)


@pytest.mark.parametrize(
    ("client_id", "name", "scope"),
    [("", None, None), ("   ", None, None), ("x" * 101, None, None), ("a\x00b", None, None),
     (CLIENT, "n" * 101, None), (CLIENT, "   ", None), (CLIENT, "a\x1bb", None),
     (CLIENT, None, "s" * 201), (CLIENT, None, "a\nb")],
)  # fmt: skip
def test_start_refuses_bad_input(
    people: People, client_id: str, name: str | None, scope: str | None
) -> None:
    with pytest.raises(ValidationFailed):
        people.devices.start(client_id, name=name, scope=scope)


def test_concurrent_polls_hand_the_token_out_once(
    nodes: tuple[Services, Services], backend: str
) -> None:
    first, second = people_of(nodes[0]), people_of(nodes[1])
    person = signed_in(first, f"poller-{backend}-{uuid.uuid4().hex[:8]}")
    name = f"race {uuid.uuid4().hex[:8]}"
    grant = first.devices.start(CLIENT, name=name)
    first.devices.decide(person, grant.user_code, approve=True)
    barrier = threading.Barrier(8)
    outcomes: list[IssuedToken | str] = []

    def poll(node: People) -> None:
        barrier.wait()
        try:
            outcomes.append(node.devices.poll(grant.device_code, CLIENT))
        except DeviceFlowError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=poll, args=((first, second)[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(outcomes) == 8
    issued = [o for o in outcomes if isinstance(o, IssuedToken)]
    assert len(issued) == 1, outcomes
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["invalid_grant"] * 7
    names = [t.name for t in first.services.tokens.list(person, limit=100).tokens]
    assert names.count(name) == 1


def test_an_address_holds_a_bounded_number_of_live_codes(people: People) -> None:
    """A script asking for codes in a loop cannot fill the table: past the cap its
    address is told when the first of its codes ends; other addresses are unaffected."""
    noisy = Requester(ip="198.51.100.7")
    for _ in range(MAX_PENDING_PER_ADDRESS):
        people.devices.start(CLIENT, requester=noisy)
    with pytest.raises(TooManyDeviceCodes) as refused:
        people.devices.start(CLIENT, requester=noisy)
    assert refused.value.retry_after_s == LIFETIME_MS // 1000
    people.devices.start(CLIENT, requester=Requester(ip="198.51.100.8"))

    people.clock.advance(LIFETIME_MS)  # the first ones expire: room again
    people.devices.start(CLIENT, requester=noisy)
