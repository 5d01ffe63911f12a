"""``tokend admin team-policy``: a team's own lifecycle policy (maximum lifetime,
inactivity expiry, required expiry), shown and changed by the operator."""

from typing import TYPE_CHECKING, Annotated

import typer

from tokend.cli.operator import operator_services
from tokend.cli.output import Format, FormatOption, fail, render, say

if TYPE_CHECKING:
    from tokend.domain.policy import Policy
    from tokend.service.policies import Unchanged

_OFF = ("none", "off")


def _duration(option: str, text: str | None) -> "int | Unchanged | None":
    """The option's value in ms; None for "none" (no limit); UNCHANGED if not given."""
    from tokend.domain.durations import parse_duration
    from tokend.domain.errors import ValidationFailed
    from tokend.service.policies import UNCHANGED

    if text is None:
        return UNCHANGED
    if text.strip().lower() in _OFF:
        return None
    try:
        return parse_duration(text)
    except ValidationFailed as exc:
        fail(f"{option}: {exc}", usage=True)


def _policy_json(policy: "Policy | None") -> dict[str, object] | None:
    if policy is None:
        return None
    return {
        "maxLifetimeMs": policy.max_lifetime_ms,
        "inactivityMs": policy.inactivity_ms,
        "requireExpiry": policy.require_expiry,
    }


def _policy_words(policy: "Policy") -> str:
    from tokend.domain.durations import in_words

    lifetime = policy.max_lifetime_ms
    inactivity = policy.inactivity_ms
    return "; ".join(
        (
            f"maximum lifetime {in_words(lifetime) if lifetime else 'none'}",
            f"expires after {in_words(inactivity)} unused"
            if inactivity
            else "no inactivity expiry",
            "expiry required" if policy.require_expiry else "expiry optional",
        )
    )


def team_policy(
    slug: str,
    max_lifetime: Annotated[
        str | None,
        typer.Option(
            "--max-lifetime",
            metavar="90d|12h|none",
            help="The longest a new team token may live; 'none': no limit of the team's own.",
        ),
    ] = None,
    inactivity: Annotated[
        str | None,
        typer.Option(
            "--inactivity",
            metavar="30d|none",
            help="Team tokens unused this long stop working; 'none': no limit of the team's own.",
        ),
    ] = None,
    require_expiry: Annotated[
        bool | None,
        typer.Option(
            "--require-expiry/--no-require-expiry",
            help="Whether every new team token must have an expiry.",
            show_default=False,
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Drop the team's policy first (then apply the rest).")
    ] = False,
    fmt: Format = FormatOption,
) -> None:
    """Show a team's lifecycle policy, or change it with the options. Its tokens obey the
    stricter of it and the instance's (TOKEND_MAX_TOKEN_LIFETIME, ...), rule by rule."""
    from tokend.service.policies import UNCHANGED

    max_lifetime_ms = _duration("--max-lifetime", max_lifetime)
    inactivity_ms = _duration("--inactivity", inactivity)
    changes = (
        clear
        or any(value is not UNCHANGED for value in (max_lifetime_ms, inactivity_ms))
        or require_expiry is not None
    )
    with operator_services() as services:
        if changes:
            shown = services.policies.set_team_policy(
                slug,
                max_lifetime_ms=max_lifetime_ms,
                inactivity_ms=inactivity_ms,
                require_expiry=UNCHANGED if require_expiry is None else require_expiry,
                clear=clear,
            )
        else:
            shown = services.policies.team_policy(slug)
        instance = services.settings.policy_rules.instance

    def text() -> None:
        team = shown.team
        say(f"Team {team.slug} ({team.id}):")
        say(f"  its own policy: {_policy_words(shown.own) if shown.own else 'none'}")
        say(f"  the instance's: {_policy_words(instance)}")
        say(f"  its tokens obey: {_policy_words(shown.effective)}")

    render(
        fmt,
        {
            "team": {"id": shown.team.id, "slug": shown.team.slug, "name": shown.team.name},
            "policy": _policy_json(shown.own),
            "instance": _policy_json(instance),
            "effective": _policy_json(shown.effective),
        },
        text,
    )


def register(app: typer.Typer) -> None:
    app.command("team-policy")(team_policy)
