"""`tokend webhooks ...` against a live server that may call the test's receiver, on
both databases."""

import json

import pytest

from tests.cli.conftest import Holder
from tests.conftest import Account
from tests.support import Server, eventually
from tests.webhook_receiver import Instance, Receiver


@pytest.fixture
def open_server(webhook_instance: Instance) -> Server:
    return webhook_instance.server


@pytest.fixture
def alice(webhook_instance: Instance) -> Account:
    return webhook_instance.user("alice")


def test_add_list_deliveries_and_remove(
    open_server: Server, alice: Account, holder: Holder, receiver: Receiver
) -> None:
    holder.login(open_server, alice)
    added = holder.run("webhooks", "add", receiver.url, "--event", "token.created")
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip()  # stdout holds the secret and nothing else
    assert secret.startswith("whsec_")
    assert "cannot be shown again" in added.stderr

    listed = holder.run("webhooks", "ls", "--format", "json")
    [hook] = json.loads(listed.stdout)
    assert hook["url"] == receiver.url
    assert hook["events"] == ["token.created"]
    assert secret not in listed.stdout
    assert hook["id"] in holder.run("webhooks", "ls").stdout

    assert holder.run("tokens", "create", "ci").returncode == 0
    assert eventually(lambda: len(receiver.received) == 1, 15)

    def delivered() -> bool:
        shown = holder.run("webhooks", "deliveries", hook["id"], "--format", "json")
        found = json.loads(shown.stdout)
        return len(found) == 1 and found[0]["status"] == "delivered"

    assert eventually(delivered, 15)
    text = holder.run("webhooks", "deliveries", hook["id"]).stdout
    assert "delivered" in text
    assert "200 in" in text

    disabled = holder.run("webhooks", "disable", hook["id"])
    assert disabled.returncode == 0, disabled.stderr
    assert f"Disabled {hook['id']}." in disabled.stdout + disabled.stderr
    [paused] = json.loads(holder.run("webhooks", "ls", "--format", "json").stdout)
    assert paused["disabledAt"] > 0
    assert "disabled" in holder.run("webhooks", "ls").stdout
    assert holder.run("tokens", "create", "while paused").returncode == 0
    enabled = holder.run("webhooks", "enable", hook["id"])
    assert enabled.returncode == 0, enabled.stderr
    [on] = json.loads(holder.run("webhooks", "ls", "--format", "json").stdout)
    assert "disabledAt" not in on
    assert holder.run("tokens", "create", "after").returncode == 0
    assert eventually(lambda: len(receiver.received) == 2, 15)
    names = [json.loads(body)["data"]["token"]["name"] for _, body in receiver.received]
    assert names == ["ci", "after"]  # nothing of the paused time, then and later

    removed = holder.run("webhooks", "rm", hook["id"])
    assert removed.returncode == 0, removed.stderr
    assert json.loads(holder.run("webhooks", "ls", "--format", "json").stdout) == []
    for command in ("rm", "enable", "disable"):
        gone = holder.run("webhooks", command, hook["id"])
        assert gone.returncode == 1
        assert "not found" in gone.stderr


def test_a_refused_url_is_one_error_line(
    open_server: Server, alice: Account, holder: Holder
) -> None:
    holder.login(open_server, alice)
    result = holder.run(
        "webhooks", "add", "https://169.254.169.254/latest", "--event", "token.created"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "metadata" in result.stderr
