"""``tokend admin create-integration``, ``list-integrations``, ``remove-integration``
and ``rotate-signing-key``: the operator's side of "Sign in with tokend"; and
``link-identity``, of signing in through an identity provider."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tokend.cli.operator import operator_services
from tokend.cli.output import Format, FormatOption, console, render, say

if TYPE_CHECKING:
    from tokend.domain.integrations import Integration


def _json(integration: "Integration") -> dict[str, object]:
    return {
        "id": integration.id,
        "name": integration.name,
        "clientId": integration.client_id,
        "redirectUris": list(integration.redirect_uris),
        "createdAt": integration.created_at,
    }


def create_integration(
    name: str,
    redirect_uri: Annotated[
        list[str],
        typer.Option(
            "--redirect-uri",
            help="Where people are sent back with the code; exact match. Repeat for more.",
        ),
    ],
    fmt: Format = FormatOption,
) -> None:
    """Register an app that signs people in with tokend; prints its client secret once."""
    with operator_services() as services:
        made = services.integrations.create(name, redirect_uris=redirect_uri)
        settings = services.settings
        issuer = settings.base_url
        signing = settings.signing_key_secret is not None
    integration = made.integration

    def text() -> None:
        console.print(
            f"Created integration [bold]{escape(integration.name)}[/] ({integration.id})."
        )
        say(f"client_id:     {integration.client_id}")
        say(f"client_secret: {made.client_secret}")
        say("The secret is shown only now, so store it safely.")
        say(f"Discovery: {issuer}/.well-known/openid-configuration")

    render(
        fmt,
        {
            "integration": {
                "id": integration.id,
                "name": integration.name,
                "redirectUris": list(integration.redirect_uris),
            },
            "clientId": integration.client_id,
            "clientSecret": made.client_secret,
        },
        text,
    )
    if not signing:
        say(
            "Note: TOKEND_SIGNING_KEY_SECRET is not set, so sign-in with tokend is off "
            "until it is (32 or more random characters).",
            err=True,
        )


def list_integrations(fmt: Format = FormatOption) -> None:
    """The registered integrations (never their secrets)."""
    with operator_services() as services:
        found = services.integrations.list()

    def text() -> None:
        if not found:
            say("No integrations. Add one with 'tokend admin create-integration'.")
        for integration in found:
            uris = ", ".join(integration.redirect_uris)
            console.print(
                f"[bold]{escape(integration.name)}[/]  {integration.id}  "
                f"{integration.client_id}  {escape(uris)}"
            )

    render(fmt, {"integrations": [_json(integration) for integration in found]}, text)


def remove_integration(id_or_client_id: str, fmt: Format = FormatOption) -> None:
    """Remove an integration: its codes and refresh tokens stop working and every token
    it holds for people is revoked."""
    with operator_services() as services:
        removed = services.integrations.remove(id_or_client_id)
    render(
        fmt,
        {"integration": _json(removed)},
        lambda: say(f"Removed integration {removed.name} ({removed.id}); its tokens are revoked."),
    )


def rotate_signing_key(fmt: Format = FormatOption) -> None:
    """Make a new id_token signing key; the old one stays in the JWKS while id_tokens
    it signed may still be presented."""
    with operator_services() as services:
        made = services.signing_keys.rotate()
        keep_s = services.signing_keys.keep_ms // 1000
    render(
        fmt,
        {"kid": made.kid, "alg": made.alg, "createdAt": made.created_at},
        lambda: say(
            f"New signing key {made.kid} ({made.alg}) signs from now on; the previous one "
            f"stays published for {keep_s} seconds."
        ),
    )


def link_identity(
    username: str,
    subject: Annotated[
        str, typer.Argument(help="The person's 'sub' at the provider (the refusal page shows it).")
    ],
    fmt: Format = FormatOption,
) -> None:
    """Link a person to their account at the identity provider (TOKEND_OIDC_ISSUER): they
    then sign in with the "Sign in with …" button."""
    from tokend.cli.output import fail

    with operator_services() as services:
        if services.upstream is None:
            fail(
                "no identity provider is set up: set TOKEND_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET"
            )
        user = services.upstream.link(username, subject)
        issuer = services.upstream.provider.issuer
    render(
        fmt,
        {"username": user.username, "userId": user.id, "issuer": issuer, "subject": subject},
        lambda: say(f"{user.username} now signs in through {issuer} (sub {subject})."),
    )


def register(app: typer.Typer) -> None:
    app.command("create-integration")(create_integration)
    app.command("list-integrations")(list_integrations)
    app.command("remove-integration")(remove_integration)
    app.command("rotate-signing-key")(rotate_signing_key)
    app.command("link-identity")(link_identity)
