"""Leak reports in-process: one finding that fails never stops the others."""

import dataclasses
from typing import Any

import pytest

from tokend.bootstrap import Services
from tokend.domain.audit import NOBODY
from tokend.domain.principal import Principal
from tokend.service.leaks import Finding
from tokend.service.ports import UnitOfWork


class DatabaseWentAway(Exception):
    pass


def test_a_failing_finding_does_not_skip_the_others(
    services: Services, principal: Principal
) -> None:
    secrets = [services.tokens.create(principal, name=f"t{i}").secret for i in range(3)]
    calls = 0

    def flaky(**kwargs: Any) -> UnitOfWork:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise DatabaseWentAway
        return services.leaks.uow(**kwargs)

    leaks = dataclasses.replace(services.leaks, uow=flaky)
    with pytest.raises(DatabaseWentAway):
        leaks.report([Finding(secret, "https://x") for secret in secrets], NOBODY)
    # The first failed; the other two were revoked all the same.
    again = services.leaks.report([Finding(secret, "https://x") for secret in secrets], NOBODY)
    assert again == [True, False, False]
