"""``tokend admin``: operator commands that act on the database directly.

The server's modules are imported inside the commands, so that the token holders'
commands (``tokend tokens ...``) start without loading SQLAlchemy and FastAPI.
"""

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tokend.cli import integrations, permissions, team_policy
from tokend.cli.operator import operator_services
from tokend.cli.output import Format, FormatOption, console, fail, render, say

if TYPE_CHECKING:
    from tokend.domain.accounts import Team
    from tokend.service.admin import NewUser

app = typer.Typer(
    help="Users, teams, services and integrations (operator side).", no_args_is_help=True
)
integrations.register(app)
team_policy.register(app)
app.add_typer(permissions.app, name="permissions")


def _team_json(team: "Team") -> dict[str, object]:
    return {"id": team.id, "slug": team.slug, "name": team.name, "createdAt": team.created_at}


@app.command("create-user")
def create_user(
    username: str,
    email: Annotated[str | None, typer.Option(help="Defaults to USERNAME@localhost.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Create a user and its first token (named 'bootstrap'); prints the token once."""
    with operator_services() as services:
        created = services.admin.create_user(username, email=email, name=name)
    _print_account(fmt, "user", created, "Their first token; it is shown only now")


@app.command("create-service")
def create_service(name: str, fmt: Format = FormatOption) -> None:
    """Create a service account for a resource server; prints its token once. That token
    may only call POST /v1/introspect."""
    with operator_services() as services:
        created = services.admin.create_service(name)
    _print_account(fmt, "service", created, "Its token, for POST /v1/introspect; shown only now")


def _print_account(fmt: Format, kind: str, created: "NewUser", token_line: str) -> None:
    from tokend.convert import auth_token, auth_user

    account, issued = created.user, created.issued

    def text() -> None:
        console.print(f"Created {kind} [bold]{escape(account.username)}[/] ({account.id}).")
        say(f"{token_line}, so store it safely:")
        say(issued.secret)

    render(
        fmt,
        {
            kind: auth_user(account).model_dump(by_alias=True),
            "token": auth_token(issued.token).model_dump(by_alias=True),
            "bearerToken": issued.secret,
        },
        text,
    )


@app.command("create-team")
def create_team(
    slug: str,
    owner: Annotated[str, typer.Option(help="Username of the team's owner.")],
    name: Annotated[str | None, typer.Option(help="Display name; defaults to the slug.")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Create a team owned by an existing user."""
    with operator_services() as services:
        team = services.admin.create_team(slug, owner=owner, name=name)
    render(
        fmt,
        {"team": _team_json(team)},
        lambda: console.print(
            f"Created team [bold]{escape(team.slug)}[/] ({team.id}), owner {escape(owner)}."
        ),
    )


@app.command("add-member")
def add_member(slug: str, username: str, fmt: Format = FormatOption) -> None:
    """Add an existing user to a team."""
    from tokend.convert import auth_user

    with operator_services() as services:
        team, user, added = services.admin.add_member(slug, username)
    message = "Added" if added else "Already a member:"
    render(
        fmt,
        {
            "team": _team_json(team),
            "user": auth_user(user).model_dump(by_alias=True),
            "added": added,
        },
        lambda: say(f"{message} {user.username} in team {team.slug} ({team.id})."),
    )


def _read_new_password() -> str:
    """One line from stdin when it is not a terminal (a script, a password manager);
    else asked twice without echo. Never an argument: argv shows in `ps`."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            fail("no password on stdin; send one line, or run this at a terminal to be asked")
        return password
    first = str(typer.prompt("New password", hide_input=True, err=True))
    second = str(typer.prompt("Repeat it", hide_input=True, err=True))
    if first != second:
        fail("the two passwords differ; nothing was changed")
    return first


@app.command("set-password")
def set_password(username: str) -> None:
    """Set a person's password (read from stdin, or asked twice); ends their sessions.

    At least 10 characters, not the username or email."""
    from tokend.domain.passwords import WeakPassword

    password = _read_new_password()
    with operator_services() as services:
        try:
            user = services.accounts.set_password(username, password)
        except WeakPassword as exc:
            fail(f"password refused: {exc}")
        url = services.settings.base_url
    say(f"Password set for {user.username}; their browser sessions were ended.")
    say(f"They sign in at {url}/login.")


@app.command("invite")
def invite(username: str, fmt: Format = FormatOption) -> None:
    """Print a one-time link where the person chooses a password and is signed in
    (valid 72 hours). Making a new one leaves earlier links valid."""
    from tokend.cli.times import absolute
    from tokend.convert import auth_user

    with operator_services() as services:
        made = services.accounts.invite(username)
        settings = services.settings
    url = f"{settings.base_url}/invite/{made.code}"
    expires_at = made.invite.expires_at
    if settings.public_url is None:
        say(
            f"Note: TOKEND_PUBLIC_URL is not set, so the link names {settings.base_url}; "
            "set it to the address people reach tokend at.",
            err=True,
        )

    def text() -> None:
        hours = (expires_at - made.invite.created_at) // 3_600_000
        say(f"Invite link for {made.user.username}, for one use within {hours} hours:")
        say(url)
        say(f"It expires {absolute(expires_at)}.")

    render(
        fmt,
        {
            "url": url,
            "expiresAt": expires_at,
            "user": auth_user(made.user).model_dump(by_alias=True),
        },
        text,
    )
