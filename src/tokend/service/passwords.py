"""Password hashing: argon2id through argon2-cffi, never by hand.

Parameters: 46 MiB of memory, 2 passes, 1 lane: twice the work of OWASP's first
recommended argon2id setting (46 MiB, 1 pass, 1 lane), about 0.1 s a hash on one
core of the test machine. Hashes made under other parameters still verify, and are
re-hashed with these at the next sign-in.
"""

from dataclasses import dataclass, field

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 47_104
TIME_COST = 2
PARALLELISM = 1


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    memory_kib: int = MEMORY_KIB
    time_cost: int = TIME_COST
    parallelism: int = PARALLELISM
    _argon2: Argon2Hasher = field(init=False, repr=False)
    # A hash of nothing anyone knows: an unknown user's sign-in is checked against it,
    # so that it takes as long as a wrong password.
    _dummy: list[str] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        argon2 = Argon2Hasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )
        object.__setattr__(self, "_argon2", argon2)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, the same work against a dummy."""
        try:
            return self._argon2.verify(password_hash or self._dummy_hash(), password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def warm(self) -> None:
        """Make the dummy hash now, so that the first unknown name is not the slow one."""
        self._dummy_hash()

    def _dummy_hash(self) -> str:
        # Made at first need: a process that checks no password never pays for it.
        if not self._dummy:
            self._dummy.append(self._argon2.hash("tokend: no such account"))
        return self._dummy[0]

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)
