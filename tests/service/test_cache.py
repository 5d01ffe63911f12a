"""The verification cache on its own: bound, expiry, invalidation, the load race."""

from tokend.domain.accounts import User
from tokend.domain.principal import Principal
from tokend.domain.scopes import Scope
from tokend.domain.tokens import Origin, Token
from tokend.service.cache import VerificationCache

USER = User(id="u1", username="alice", email="alice@localhost", name=None, created_at=1)
NOW = 1_800_000_000_000
WINDOW = 60_000


def principal(n: int) -> Principal:
    token = Token(
        id=f"token-{n}", user_id="u1", name=f"t{n}", digest=n.to_bytes(32, "big"),
        prefix="tkd_", suffix="abcd", origin=Origin.MANUAL, scope=Scope.user(),
        created_at=NOW, active_at=NOW,
    )  # fmt: skip
    return Principal(user=USER, token=token)


def digest(n: int) -> bytes:
    return n.to_bytes(32, "big")


def put(cache: VerificationCache, n: int) -> None:
    cache.put(principal(n), NOW, WINDOW, cache.generation)


def test_the_cache_is_bounded_and_keeps_what_is_used() -> None:
    cache = VerificationCache(3)
    for n in range(3):
        put(cache, n)

    for n in range(3, 100):  # a stream of new tokens, while token 0 is used all along
        assert cache.get(digest(0), NOW) is not None
        put(cache, n)
        assert len(cache) <= 3

    assert len(cache) == 3
    assert cache.get(digest(0), NOW) is not None
    assert cache.get(digest(99), NOW) is not None
    assert sum(cache.get(digest(n), NOW) is not None for n in range(100)) == 3


def test_unknown_digests_have_their_own_smaller_bound() -> None:
    cache = VerificationCache(8, negative_size=2)
    put(cache, 1)
    for n in range(100, 110):
        cache.put_unknown(digest(n), NOW, cache.generation)
    assert cache.get(digest(1), NOW) is not None  # a flood of unknowns evicts no token
    assert [cache.is_known_unknown(digest(n), NOW) for n in (107, 108, 109)] == [
        False,
        True,
        True,
    ]


def test_invalidate_forgets_a_token_by_id() -> None:
    cache = VerificationCache(10)
    put(cache, 1)
    put(cache, 2)

    cache.invalidate("token-1")
    cache.invalidate("never-cached")

    assert cache.get(digest(1), NOW) is None
    assert cache.get(digest(2), NOW) is not None


def test_a_load_that_raced_a_revocation_is_not_cached() -> None:
    cache = VerificationCache(10)
    before = cache.generation  # a request reads the token from the database...
    cache.invalidate("token-1")  # ...while another process revokes it

    cache.put(principal(1), NOW, WINDOW, before)
    cache.put_unknown(digest(2), NOW, before)

    assert cache.get(digest(1), NOW) is None
    assert not cache.is_known_unknown(digest(2), NOW)


def test_entries_go_stale_after_their_ttl() -> None:
    cache = VerificationCache(10, ttl_s=5, negative_ttl_s=1)
    put(cache, 1)
    cache.put_unknown(digest(2), NOW, cache.generation)
    assert cache.get(digest(1), NOW + 4_999) is not None
    assert cache.is_known_unknown(digest(2), NOW + 999)
    assert cache.get(digest(1), NOW + 5_000) is None
    assert not cache.is_known_unknown(digest(2), NOW + 1_000)


def test_the_hot_path_boundary_is_the_first_of_staleness_expiry_and_activity() -> None:
    cache = VerificationCache(10, ttl_s=300)
    put(cache, 1)
    entry = cache.peek(digest(1))
    assert entry is not None
    assert (
        entry.plain_until_ns == (NOW + WINDOW) * 1_000_000
    )  # activeAt is due before the TTL runs out

    expiring = principal(2)
    token = expiring.token
    soon = Principal(USER, Token(**{**{f: getattr(token, f) for f in token.__slots__},
                                    "expires_at": NOW + 10}))  # fmt: skip
    cache.put(soon, NOW, WINDOW, cache.generation)
    entry = cache.peek(digest(2))
    assert entry is not None
    assert entry.plain_until_ns == (NOW + 10) * 1_000_000


def test_clear_empties_everything_and_size_zero_caches_nothing() -> None:
    cache = VerificationCache(10)
    put(cache, 1)
    cache.put_unknown(digest(2), NOW, cache.generation)
    cache.clear()
    assert cache.get(digest(1), NOW) is None
    assert not cache.is_known_unknown(digest(2), NOW)

    off = VerificationCache(0)
    put(off, 1)
    off.put_unknown(digest(2), NOW, off.generation)
    assert off.get(digest(1), NOW) is None
    assert not off.is_known_unknown(digest(2), NOW)


def test_a_cache_that_follows_a_feed_answers_only_shortly_after_each_proof() -> None:
    cache = VerificationCache(10, trust_s=0.75)
    put(cache, 1)
    assert cache.get(digest(1), NOW) is not None  # no feed followed: trusted
    cache.follow_feed()
    assert cache.get(digest(1), NOW) is None  # nothing heard yet
    cache.heard(NOW * 1_000_000)
    assert cache.get(digest(1), NOW + 700) is not None
    assert cache.get(digest(1), NOW + 750) is None  # the feed may be deaf by now
    cache.heard(NOW * 1_000_000 + 500_000_000)
    assert cache.get(digest(1), NOW + 1200) is not None
    cache.heard(NOW * 1_000_000)  # an older proof never shortens the trust
    assert cache.get(digest(1), NOW + 1200) is not None

    cache.clear()  # a gap: nothing is trusted until the feed proves itself again
    put(cache, 1)
    assert cache.get(digest(1), NOW + 1200) is None
    cache.heard(NOW * 1_000_000 + 1_100_000_000)
    assert cache.get(digest(1), NOW + 1200) is not None


def test_no_table_of_the_cache_outgrows_its_bound_under_churn() -> None:
    # Issue 10: a worker's memory crept under a full cache. Every table is bounded:
    # after a long stream of tokens, re-reads, revocations and unknown digests, none
    # holds more than its size, and the id index names exactly the cached tokens.
    cache = VerificationCache(100, negative_size=10)
    for n in range(5_000):
        put(cache, n)
        if n % 3 == 0:
            put(cache, n // 2)  # read again after going stale
            cache.get(digest(n // 2), NOW)
        if n % 7 == 0:
            cache.invalidate(f"token-{n - 50}")  # revoked
        if n % 11 == 0:
            cache.put_unknown((10**9 + n).to_bytes(32, "big"), NOW, cache.generation)
    assert len(cache._entries) <= 100
    assert len(cache._unknown) <= 10
    cached_ids = {entry.principal.token.id for entry in cache._entries.values()}
    assert set(cache._digest_by_id) == cached_ids
    assert all(cache._entries[d].principal.token.id == i for i, d in cache._digest_by_id.items())
