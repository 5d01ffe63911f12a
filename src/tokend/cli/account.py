"""``tokend login``, ``logout`` and ``whoami``: the token holder's session."""

import os
import sys
from typing import Annotated

import typer

from tokend.cli import credentials
from tokend.cli.output import Format, FormatOption, fail, render, say
from tokend.cli.remote import client_errors, logged_in
from tokend.client import Client, PermissionDenied
from tokend.client.connection import DEFAULT_URL, TOKEN_VARIABLE, URL_VARIABLE
from tokend.models import AuthToken


def _read_token() -> str:
    # Never from an argument: argv shows in `ps` and lands in shell history.
    if sys.stdin.isatty():
        return str(typer.prompt("Token", hide_input=True, err=True))
    return sys.stdin.readline()


def _current_token(client: Client) -> AuthToken | None:
    try:
        return client.tokens.get("current")
    except PermissionDenied:
        return None  # a project token may not read token metadata, even its own


def _describe(token: AuthToken | None) -> str:
    if token is None:
        return "a project token"
    return f"token {token.name!r}, id {token.id}"


def login(
    url: Annotated[
        str | None,
        typer.Option(help=f"The tokend server (default: ${URL_VARIABLE}, else {DEFAULT_URL})."),
    ] = None,
    web: Annotated[
        bool | None,
        typer.Option(
            "--web/--no-web",
            help="--web: log in through the browser (the default at a terminal). "
            "--no-web: paste a token at the prompt instead.",
            show_default=False,
        ),
    ] = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser/--no-browser",
            help="With --web: open the page in a browser when there is a display.",
        ),
    ] = True,
) -> None:
    """Log in: save the server and a token for later commands.

    At a terminal, through the browser: open the page shown, sign in, check the
    code and approve. A new token, named after this computer, is saved.

    A token piped on stdin (tokend login < file) is checked and saved instead;
    --no-web asks for one at a prompt, without echo.
    """
    server: str | None
    with client_errors():
        if web is None:
            web = sys.stdin.isatty()
        if web:
            from tokend.cli.web_login import obtain_token

            server, token = obtain_token(url, open_browser=browser)
        else:
            server, token = url, _read_token().strip()
            if not token:
                fail("no token given; paste one at the prompt or pipe it on stdin")
        # Client falls back to TOKEND_URL, then the default, as --url's help says.
        with Client(server, token) as client:
            user = client.user()
            current = _current_token(client)
            server = client.base_url
        path = credentials.save(server, token)
    say(f"Logged in to {server} as {user.username} ({_describe(current)}). Saved in {path}.")
    if os.environ.get(TOKEN_VARIABLE):
        say(f"Note: {TOKEN_VARIABLE} is set and overrides the saved token.", err=True)


def logout(
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Also revoke the saved token on the server.")
    ] = False,
) -> None:
    """Forget the saved token (and, with --revoke, revoke it first)."""
    if revoke:
        with logged_in() as client:
            client.tokens.delete("current")
        say("Revoked the token on the server.")
    with client_errors():
        path = credentials.forget()
    if path is None:
        say("Not logged in; nothing to forget.")
    else:
        say(f"Removed {path}.")
    if os.environ.get(TOKEN_VARIABLE):
        say(f"Note: {TOKEN_VARIABLE} is still set; commands keep using it.", err=True)


def whoami(fmt: Format = FormatOption) -> None:
    """Show the user, the server and the token in use."""
    with logged_in() as client:
        user = client.user()
        current = _current_token(client)
        server = client.base_url

    def text() -> None:
        name = f" ({user.name})" if user.name else ""
        say(f"{user.username}{name} <{user.email}>")
        say(f"server: {server}")
        say(f"token:  {_describe(current)}")

    render(
        fmt,
        {
            "server": server,
            "user": user.model_dump(mode="json", by_alias=True),
            "token": current.model_dump(mode="json", by_alias=True) if current else None,
        },
        text,
    )
