"""The page tests' people: a user with a password, and a browser signed in as them."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import Account
from tests.support import Server
from tests.web.visitor import Visitor
from tokend.bootstrap import Services

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Person:
    account: Account
    password: str

    @property
    def username(self) -> str:
        return self.account.username


@pytest.fixture
def make_person(services: Services, make_user: Callable[..., Account]) -> Callable[..., Person]:
    def make(prefix: str = "person") -> Person:
        account = make_user(prefix)
        services.accounts.set_password(account.username, PASSWORD)
        return Person(account, PASSWORD)

    return make


@pytest.fixture
def person(make_person: Callable[..., Person]) -> Person:
    return make_person()


@pytest.fixture
def visitor(server: Server) -> Iterator[Visitor]:
    with Visitor(server) as anonymous:
        yield anonymous


@pytest.fixture
def signed_in(server: Server, person: Person) -> Iterator[Visitor]:
    """A browser signed in as `person`."""
    with Visitor(server) as browser:
        answer = browser.sign_in(person.username, person.password)
        assert answer.status_code == 303, answer.text
        yield browser
