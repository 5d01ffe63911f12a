"""Operator use case: a team's own lifecycle policy (``tokend admin team-policy``)."""

from dataclasses import dataclass, replace

from tokend.domain.accounts import Team
from tokend.domain.durations import short
from tokend.domain.errors import NotFound, ValidationFailed
from tokend.domain.policy import NO_POLICY, Policy, PolicyRules, stricter
from tokend.service.clock import Clock, system_clock
from tokend.service.ports import UnitOfWork, UnitOfWorkFactory


class Unchanged:
    """A field the operator did not mention: it keeps its value."""


UNCHANGED = Unchanged()


@dataclass(frozen=True, slots=True)
class TeamPolicy:
    team: Team
    own: Policy | None  # the team's policy; None if it has none
    effective: Policy  # what its members' tokens obey: the stricter of it and the instance's


@dataclass(frozen=True, slots=True)
class PolicyService:
    uow: UnitOfWorkFactory
    rules: PolicyRules
    # activeAt moves at most once per this: a shorter inactivity limit would expire
    # tokens in use (TOKEND_ACTIVE_AT_RESOLUTION_S, twice).
    min_inactivity_ms: int = 0
    clock: Clock = system_clock

    def team_policy(self, slug: str) -> TeamPolicy:
        with self.uow() as uow:
            team = self._team(uow, slug)
            own = uow.team_policies.get(team.id)
        return self._view(team, own)

    def set_team_policy(
        self,
        slug: str,
        *,
        max_lifetime_ms: int | Unchanged | None = UNCHANGED,
        inactivity_ms: int | Unchanged | None = UNCHANGED,
        require_expiry: bool | Unchanged = UNCHANGED,
        clear: bool = False,
    ) -> TeamPolicy:
        """Change the fields given (None: no limit); ``clear`` first drops the team's
        policy altogether. A policy left with no rule at all is removed."""
        if isinstance(inactivity_ms, int) and inactivity_ms < self.min_inactivity_ms:
            raise ValidationFailed(
                f"The inactivity limit must be at least {short(self.min_inactivity_ms)} "
                "(twice TOKEND_ACTIVE_AT_RESOLUTION_S): activeAt moves only once per that."
            )
        with self.uow(write=True) as uow:
            team = self._team(uow, slug)
            current = uow.team_policies.get(team.id)
            policy = NO_POLICY if clear or current is None else current
            if not isinstance(max_lifetime_ms, Unchanged):
                policy = replace(policy, max_lifetime_ms=max_lifetime_ms)
            if not isinstance(inactivity_ms, Unchanged):
                policy = replace(policy, inactivity_ms=inactivity_ms)
            if not isinstance(require_expiry, Unchanged):
                policy = replace(policy, require_expiry=require_expiry)
            if policy:
                uow.team_policies.put(team.id, policy, self.clock())
            else:
                uow.team_policies.clear(team.id)
            uow.commit()
        return self._view(team, policy or None)

    def _view(self, team: Team, own: Policy | None) -> TeamPolicy:
        return TeamPolicy(team=team, own=own, effective=stricter(self.rules.instance, own))

    @staticmethod
    def _team(uow: UnitOfWork, slug: str) -> Team:
        team = uow.accounts.get_team_by_slug(slug)
        if team is None:
            raise NotFound(f"No team has the slug {slug!r}.")
        return team
