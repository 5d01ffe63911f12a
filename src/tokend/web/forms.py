"""Reading the token and webhook forms' choices into what the services take: an
expiry instant and a team. The rules themselves are the domain's (`validate_name`,
`validate_expiry`); this only says which field an error belongs to."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tokend.domain.accounts import Team
from tokend.domain.errors import ValidationFailed
from tokend.domain.tokens import validate_expiry

DAY_MS = 86_400_000
EXPIRATIONS = (
    ("7", "7 days"),
    ("30", "30 days"),
    ("60", "60 days"),
    ("90", "90 days"),
    ("custom", "Custom date"),
    ("none", "No expiration"),
)
DEFAULT_EXPIRATION = "30"
# Rotate's "Keep the old token working for": ms, "" for not at all (revoked at once).
# Short, to fit a row beside Rotate; the select's label says what they are.
OVERLAPS = (
    ("", "old ends now"),
    ("600000", "old +10 min"),
    ("3600000", "old +1 hour"),
    ("86400000", "old +24 hours"),
)
PERSONAL = "personal"
FULL_ACCESS = "full"
RESTRICTED = "restricted"


class FieldError(ValidationFailed):
    """Input that breaks a rule, and the form field it was typed in."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class TokenForm:
    """The create form as it was filled in (re-shown as it was when it has errors)."""

    name: str = ""
    expiration: str = DEFAULT_EXPIRATION
    expires_on: str = ""
    scope: str = PERSONAL
    # When the form was shown (ms): a send of it after the user's newest token was made
    # is a resubmission (a reload of the page that showed the secret), refused.
    shown_at: int | None = None
    access: str = FULL_ACCESS  # or RESTRICTED: only the permissions checked
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookForm:
    """The add-a-webhook form as it was filled in (re-shown as it was when it has errors)."""

    url: str = ""
    events: tuple[str, ...] = ()
    scope: str = PERSONAL
    shown_at: int | None = None  # as the token form's: a second send of it is refused


def permissions_of(form: TokenForm) -> tuple[str, ...] | None:
    """The permissions a token made with this form holds; None: unrestricted."""
    if form.access == FULL_ACCESS:
        return None
    if form.access != RESTRICTED:
        raise FieldError("access", "Choose full access or the permissions checked.")
    return form.permissions


def expiry(form: TokenForm, now_ms: int) -> int | None:
    """When a token made with this form expires (ms), or None for never."""
    if form.expiration == "none":
        return None
    if form.expiration == "custom":
        return _end_of_day(form.expires_on, now_ms)
    if form.expiration not in {value for value, _ in EXPIRATIONS}:
        raise FieldError("expiration", "Choose one of the expirations offered.")
    return now_ms + int(form.expiration) * DAY_MS


def _end_of_day(text: str, now_ms: int) -> int:
    """A custom date: the token works until the end of that day, UTC."""
    if not text.strip():
        raise FieldError("expires_on", "Enter the date the token expires, such as 2027-01-31.")
    try:
        day = date.fromisoformat(text.strip())
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    except (ValueError, OverflowError):
        raise FieldError(
            "expires_on", "Enter a date such as 2027-01-31, before the year 9999."
        ) from None
    moment = int(end.timestamp() * 1000)
    try:
        return validate_expiry(moment, now_ms) or moment
    except ValidationFailed:
        if moment <= now_ms:
            raise FieldError("expires_on", "Choose a date from today on.") from None
        raise FieldError("expires_on", "Choose a date before the year 9999.") from None


def scope_choices(teams: list[Team]) -> list[tuple[str, str]]:
    """The choices of a form's scope (a token's or a webhook's): personal, or a team."""
    return [(PERSONAL, "Personal"), *((team.id, f"{team.name} ({team.slug})") for team in teams)]


def owner_name(team_id: str | None, teams: list[Team]) -> str:
    """Whose a token or webhook is, in the person's words."""
    if team_id is None:
        return "Personal"
    return next((team.name for team in teams if team.id == team_id), "A team you left")


def team_of(form: TokenForm | WebhookForm, teams: list[Team]) -> Team | None:
    """The team chosen as the token's (or webhook's) scope; None for a personal one."""
    if form.scope in ("", PERSONAL):
        return None
    for team in teams:
        if team.id == form.scope:
            return team
    raise FieldError("scope", "Choose Personal or one of your teams.")


def min_date(now_ms: int) -> str:
    """The earliest custom date, for the date input's ``min``: today, UTC."""
    return datetime.fromtimestamp(now_ms / 1000, UTC).date().isoformat()


def overlap(text: str) -> int | None:
    """Rotate's overlap, as chosen: None for none; anything not offered is refused."""
    if text not in {value for value, _ in OVERLAPS}:
        raise ValidationFailed("Choose how long the old token keeps working from the list.")
    return int(text) if text else None
