"""``tokend webhooks``: the logged-in user's webhooks (its team's, with a team
token), over the HTTP API."""

from typing import Annotated

import typer

from tokend.cli import times
from tokend.cli.output import (
    Column,
    Format,
    FormatOption,
    err_console,
    print_json,
    print_table,
    say,
)
from tokend.cli.remote import logged_in

app = typer.Typer(
    help="Webhooks: where your token events are sent (add, ls, rm, enable, disable, deliveries).",
    no_args_is_help=True,
)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="An https:// URL that receives the events.")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            metavar="TYPE",
            help="An event type to send (repeat for more): token.created, token.revoked, "
            "token.rotated, token.leaked, token.expiring, token.expired, auth.rate_limited.",
        ),
    ],
    fmt: Format = FormatOption,
) -> None:
    """Add a webhook and print its signing secret, which is shown only this once."""
    with logged_in() as client:
        created = client.webhooks.create(url, event)
    if fmt is Format.JSON:
        print_json(created.model_dump(mode="json", by_alias=True))
        return
    hook = created.webhook
    say(f"Added webhook {hook.id} for {', '.join(hook.events)}.", err=True)
    # Only the secret on stdout, so `tokend webhooks add … > file` keeps just it.
    print(created.secret)
    err_console.print(
        "[bold yellow]Copy the signing secret now: it cannot be shown again.[/]", highlight=False
    )


@app.command("ls")
def list_webhooks(fmt: Format = FormatOption) -> None:
    """List your webhooks, newest first."""
    with logged_in() as client:
        hooks = client.webhooks.list()
    if fmt is Format.JSON:
        print_json([hook.model_dump(mode="json", by_alias=True) for hook in hooks])
        return
    if not hooks:
        say("No webhooks.")
        return
    now = times.now()
    print_table(
        [Column("id", wrap=False), Column("url"), Column("events"), Column("state")],
        [
            (
                hook.id,
                hook.url,
                " ".join(hook.events),
                "disabled" if hook.disabled_at else
                f"failing since {times.relative(hook.failing_since, now)}" if hook.failing_since
                else "ok",
            )
            for hook in hooks
        ],
    )  # fmt: skip


@app.command("rm")
def remove(webhook_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Remove a webhook, with its deliveries."""
    with logged_in() as client:
        client.webhooks.delete(webhook_id)
    say(f"Removed {webhook_id}.")


@app.command("enable")
def enable(webhook_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Turn a paused or disabled webhook back on (deliveries that failed meanwhile stay
    failed)."""
    with logged_in() as client:
        client.webhooks.enable(webhook_id)
    say(f"Enabled {webhook_id}.")


@app.command("disable")
def disable(webhook_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Pause a webhook: nothing new is sent to it, and its pending deliveries fail."""
    with logged_in() as client:
        client.webhooks.disable(webhook_id)
    say(f"Disabled {webhook_id}.")


@app.command("deliveries")
def deliveries(
    webhook_id: Annotated[str, typer.Argument(metavar="ID")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 20,
    fmt: Format = FormatOption,
) -> None:
    """A webhook's newest deliveries, with their attempts."""
    with logged_in() as client:
        found = client.webhooks.deliveries(webhook_id, limit)
    if fmt is Format.JSON:
        print_json([delivery.model_dump(mode="json", by_alias=True) for delivery in found])
        return
    if not found:
        say("No deliveries.")
        return
    now = times.now()
    rows = []
    for delivery in found:
        tried = ", ".join(
            f"{attempt.status_code or attempt.error} in {attempt.duration_ms} ms"
            for attempt in delivery.attempts
        )
        rows.append(
            (
                delivery.id,
                delivery.event_type,
                delivery.status,
                times.relative(delivery.created_at, now),
                tried or "not yet tried",
            )
        )
    print_table(
        [Column("id", wrap=False), Column("event"), Column("status"), Column("created"),
         Column("attempts (newest first)")],
        rows,
    )  # fmt: skip
