"""``tokend admin team-policy``: shows and changes a team's own lifecycle policy."""

import json

from tests.cli.conftest import Holder, one_error_line
from tests.cli.test_people import admin
from tests.conftest import Account
from tokend.bootstrap import Services

DAY = 86_400_000


def test_team_policy_shows_sets_and_clears(
    holder: Holder, database_url: str, services: Services, alice: Account
) -> None:
    team = services.admin.create_team(f"t{alice.user_id[:8].lower()}", owner=alice.username)

    shown = admin(holder, database_url, "team-policy", team.slug, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["policy"] is None

    changed = admin(holder, database_url, "team-policy", team.slug, "--max-lifetime", "90d",
                    "--inactivity", "30d", "--require-expiry", "--format", "json")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    policy = {"maxLifetimeMs": 90 * DAY, "inactivityMs": 30 * DAY, "requireExpiry": True}
    assert json.loads(changed.stdout)["policy"] == policy
    assert json.loads(changed.stdout)["effective"] == policy

    partly = admin(holder, database_url, "team-policy", team.slug, "--max-lifetime", "none",
                   "--no-require-expiry")  # fmt: skip
    assert partly.returncode == 0, partly.stderr
    assert "expires after 30 days unused" in partly.stdout
    assert "maximum lifetime none" in partly.stdout

    cleared = admin(holder, database_url, "team-policy", team.slug, "--clear", "--format", "json")
    assert json.loads(cleared.stdout)["policy"] is None

    bad = admin(holder, database_url, "team-policy", team.slug, "--inactivity", "soon")
    assert bad.returncode == 2  # a usage error
    assert bad.stderr.startswith("error: --inactivity: 'soon' is not a duration")
    assert (
        "no team"
        in one_error_line(admin(holder, database_url, "team-policy", "no-such-team")).lower()
    )
