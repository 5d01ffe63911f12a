"""``tokend login --web``: the device login (RFC 8628) as a person at a terminal sees
it. The HTTP part is `tokend.client.device`; this module only talks to the person."""

import os
import socket
import sys
import webbrowser

import typer

from tokend.cli.output import fail, say
from tokend.client.device import (
    DeviceLogin,
    DeviceLoginDenied,
    DeviceLoginExpired,
    DeviceLoginFailed,
)

CLIENT_ID = "tokend-cli"
NAME_MAX_LENGTH = 100  # a token name's


def token_name() -> str:
    """What the new token is called, on the tokens page and at approval time."""
    host = "".join(c for c in socket.gethostname() if c.isprintable()).strip() or "this computer"
    return f"tokend CLI on {host}"[:NAME_MAX_LENGTH]


def can_open_browser() -> bool:
    """Whether a browser would show up where the person is: not over ssh or on a
    server without a display, where `webbrowser` would start a text browser in this
    terminal or fail."""
    if os.environ.get("BROWSER"):
        return True  # the person said which one
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def obtain_token(url: str | None, *, open_browser: bool) -> tuple[str, str]:
    """Run the flow; returns the server's URL and the new token. Exits with one
    ``error:`` line when the login is denied or expires, and with status 130 on Ctrl-C."""
    with DeviceLogin(url, client_id=CLIENT_ID) as login:
        try:
            return login.base_url, _run(login, open_browser=open_browser)
        except KeyboardInterrupt:
            say("\nCancelled: not logged in.", err=True)
            raise typer.Exit(130) from None


def _run(login: DeviceLogin, *, open_browser: bool) -> str:
    codes = login.start(name=token_name())
    minutes = max(1, codes.expires_in // 60)
    say(f"To log in to {login.base_url}, open this page in a browser and approve:", err=True)
    say("", err=True)
    say(f"    {codes.verification_uri_complete}", err=True)
    say("", err=True)
    say(f"Check that the page shows the code {codes.user_code}.", err=True)
    if open_browser and can_open_browser() and _open(codes.verification_uri_complete):
        say("(Opened it in your browser.)", err=True)
    say(
        f"Waiting for approval; the code expires in {minutes} minutes. Press Ctrl-C to cancel.",
        err=True,
    )
    try:
        return login.wait(codes)
    except DeviceLoginDenied:
        fail("the login was denied in the browser; nothing was saved")
    except DeviceLoginExpired:
        fail("the code expired before it was approved; run 'tokend login --web' again")
    except DeviceLoginFailed as exc:
        fail(f"the server refused the login: {exc.message}")


def _open(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
