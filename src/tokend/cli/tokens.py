"""``tokend tokens``: the logged-in user's tokens, over the HTTP API."""

import re
import sys
from datetime import datetime
from typing import Annotated

import typer

from tokend.cli import credentials, times
from tokend.cli.output import (
    Column,
    Format,
    FormatOption,
    err_console,
    fail,
    print_json,
    print_table,
    say,
)
from tokend.cli.remote import client_errors, logged_in
from tokend.client import NotFound, PermissionDenied
from tokend.domain.durations import in_words, parse_duration
from tokend.domain.errors import ValidationFailed
from tokend.domain.secret import ANY_PREFIX_PATTERN
from tokend.models import AuthToken, CreateTokenResponse, TeamScope

CURRENT = "current"

_SECRET = re.compile(ANY_PREFIX_PATTERN)

app = typer.Typer(help="Your tokens: list, create, show, rotate, revoke.", no_args_is_help=True)


def _token_id(value: str) -> str:
    # A secret pasted where an id belongs would be echoed in errors and land in the
    # server's access log; stop it here, before anything is sent.
    if _SECRET.fullmatch(value.strip()):
        raise typer.BadParameter(
            "that is a token's secret, not its id; nothing was sent. "
            "Ids are shown by 'tokend tokens ls'."
        )
    return value


def _token_ids(values: list[str]) -> list[str]:
    return [_token_id(value) for value in values]


def _scope(token: AuthToken) -> str:
    scopes = token.scopes or []
    teams = [scope.team_id for scope in scopes if isinstance(scope, TeamScope)]
    where = f"team {teams[0]}" if teams else "user"
    if token.permissions is None:
        return where
    return f"{where}, only {' '.join(token.permissions) or 'authentication'}"


def _expires(token: AuthToken, now: datetime) -> str:
    now_ms = now.timestamp() * 1000
    idle_until = token.inactivity_expires_at
    # Expired by disuse (lifecycle policy) before its own expiry came?
    if (
        idle_until is not None
        and idle_until <= now_ms
        and (token.expires_at is None or idle_until < token.expires_at)
    ):
        return f"expired (unused for {in_words(idle_until - token.active_at)})"
    text = times.relative(token.expires_at, now)
    if token.expires_at is not None and token.expires_at <= now_ms:
        return f"expired {text}"
    return text


@app.command("ls")
def list_tokens(
    limit: Annotated[int | None, typer.Option(min=1, help="Show only the newest N tokens.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """List your tokens, newest first (every page)."""
    with logged_in() as client:
        tokens = list(client.tokens.list(limit))
    if fmt is Format.JSON:
        print_json([token.model_dump(mode="json", by_alias=True) for token in tokens])
        return
    if not tokens:
        say("No tokens.")
        return
    now = times.now()
    columns = [
        Column("name", fold_to=12),
        Column("id", wrap=False),
        Column("scope"),
        Column("created"),
        Column("last used"),
        Column("expires"),
    ]
    print_table(
        columns,
        [
            (
                token.name,
                token.id,
                _scope(token),
                times.relative(token.created_at, now),
                times.relative(token.active_at, now),
                _expires(token, now),
            )
            for token in tokens
        ],
    )


def _expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return times.parse_expiry(value, times.now())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires") from None


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'ci' or 'laptop'.")],
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="30d|12h|90m|YYYY-MM-DD",
            help="Lifetime or date after which it stops working (default: never).",
        ),
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", metavar="ID_OR_SLUG", help="Make a team token.")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", metavar="ID", help="Limit it to a project.")
    ] = None,
    permission: Annotated[
        list[str] | None,
        typer.Option(
            "--permission",
            metavar="NAME",
            help="Restrict it to this permission (repeat for more); default: unrestricted.",
        ),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Create a token and print its secret, which is shown only this once."""
    expires_at = _expiry(expires)
    team_id, slug = (team, None) if team and team.startswith("team_") else (None, team)
    with logged_in() as client:
        created = client.tokens.create(
            name,
            expires_at=expires_at,
            team_id=team_id,
            slug=slug,
            project_id=project,
            permissions=permission,
        )
    _print_issued(created, fmt, "Created")


def _print_issued(issued: CreateTokenResponse, fmt: Format, verb: str) -> None:
    if fmt is Format.JSON:
        print_json(issued.model_dump(mode="json", by_alias=True))
        return
    token = issued.token
    lifetime = (
        f"expires {times.relative(token.expires_at, times.now())} "
        f"({times.absolute(token.expires_at)})"
        if token.expires_at is not None
        else "never expires"
    )
    # Only the secret on stdout, so `tokend tokens create ci > file` keeps just it.
    say(f"{verb} token {token.name!r} (id {token.id}, {_scope(token)}); it {lifetime}.", err=True)
    print(issued.bearer_token)
    err_console.print(
        "[bold yellow]Copy the secret now: it cannot be shown again.[/]", highlight=False
    )


@app.command("show")
def show(
    token_id: Annotated[str, typer.Argument(help="A token id, or 'current'.", callback=_token_id)],
    fmt: Format = FormatOption,
) -> None:
    """One token's details."""
    with logged_in() as client:
        token = client.tokens.get(token_id)
    if fmt is Format.JSON:
        print_json(token.model_dump(mode="json", by_alias=True))
        return
    now = times.now()

    def when(ms: int) -> str:
        return f"{times.relative(ms, now)} ({times.absolute(ms)})"

    rows = [
        ("name", token.name),
        ("id", token.id),
        ("scope", _scope(token)),
        ("secret", f"{token.prefix or ''}…{token.suffix or ''}"),
        ("created", when(token.created_at)),
        ("last used", when(token.active_at)),
        ("expires", _expires(token, now) + (
            f" ({times.absolute(token.expires_at)})" if token.expires_at is not None else ""
        )),
    ]  # fmt: skip
    print_table([Column("", bold=True), Column("", wrap=False)], rows, header=False)


@app.command("rm")
def remove(
    token_ids: Annotated[
        list[str],
        typer.Argument(metavar="ID", help="Token ids, or 'current'.", callback=_token_ids),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Revoke tokens. They stop working at once, everywhere."""
    if not yes:
        if not sys.stdin.isatty():
            fail("stdin is not a terminal, so nobody can confirm; pass --yes", usage=True)
        one = len(token_ids) == 1
        which, them = ("this token", "it") if one else (f"these {len(token_ids)} tokens", "them")
        typer.confirm(f"Revoke {which}? Whatever uses {them} stops working at once", abort=True)
    failed = 0
    with logged_in() as client:
        for token_id in token_ids:
            try:
                client.tokens.delete(token_id)
            except (NotFound, PermissionDenied) as exc:
                # This id only; anything else (a refused token, no server) ends the loop.
                failed += 1
                say(f"error: {token_id}: {exc}", err=True)
            else:
                say(f"Revoked {token_id}.")
    if failed:
        raise typer.Exit(1)


def _overlap(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        overlap_ms = parse_duration(value)
    except ValidationFailed as exc:
        raise typer.BadParameter(str(exc), param_hint="--overlap") from None
    if overlap_ms > 24 * 3_600_000:
        raise typer.BadParameter("at most 24h", param_hint="--overlap")
    return overlap_ms


@app.command("rotate")
def rotate(
    token_id: Annotated[str, typer.Argument(help="A token id, or 'current'.", callback=_token_id)],
    overlap: Annotated[
        str | None,
        typer.Option(
            "--overlap",
            metavar="10m|1h|30s",
            help="Keep the old token working this long (at most 24h) instead of revoking it, "
            "so whatever uses it can move to the new one without downtime.",
        ),
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Replace a token: revoke it and print its successor's secret (same name, scope
    and lifetime length). Rotating 'current' while logged in saves the new secret."""
    overlap_ms = _overlap(overlap)
    with client_errors():
        saved = credentials.load()
    with logged_in() as client:
        rotated = client.tokens.rotate(token_id, overlap_ms=overlap_ms)
    if overlap_ms is not None:
        say(f"The old token keeps working for {in_words(overlap_ms)} more.", err=True)
    if token_id == CURRENT and saved.token_source == str(credentials.config_path()):
        # The saved login was the token just revoked: keep the user logged in.
        try:
            path = credentials.save(saved.url, rotated.bearer_token)
        except credentials.CredentialsError as exc:
            # The old token is revoked already: the new secret must not be lost.
            _print_issued(rotated, fmt, "Rotated; new")
            fail(f"{exc}; the new token is printed above: log in with it ('tokend login')")
        say(f"Rotated token {rotated.token.name!r}; the new one (id {rotated.token.id}) "
            f"is saved in {path}.")  # fmt: skip
        return
    _print_issued(rotated, fmt, "Rotated; new")
