"""Settings: what `tokend serve` hands to uvicorn, the addresses it builds links on, and
what is refused."""

import pytest
from pydantic import SecretStr, ValidationError

from tokend.settings import Settings


def test_no_proxy_is_trusted_by_default() -> None:
    assert Settings().trusted_proxy_list == []


def test_trusted_proxies_are_normalised_for_uvicorn() -> None:
    settings = Settings(trusted_proxies=" 10.1.2.3/8, ::1,127.0.0.1 ,")
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "::1/128", "127.0.0.1/32"]


@pytest.mark.parametrize("entry", ["*", "proxy.example", "10.0.0.0/33", "127.0.0.1:80"])
def test_a_trusted_proxy_must_be_an_address_or_network(entry: str) -> None:
    with pytest.raises(ValidationError, match="not an IP address or CIDR network"):
        Settings(trusted_proxies=entry)


def test_redis_url() -> None:
    assert Settings().redis_url is None
    assert Settings(redis_url="").redis_url is None
    assert Settings(redis_url="rediss://:pw@cache:6380/1").redis_url == "rediss://:pw@cache:6380/1"
    with pytest.raises(ValidationError, match="not a Redis URL"):
        Settings(redis_url="http://cache:6379")


def test_links_are_built_on_the_listening_address_without_a_public_url() -> None:
    assert Settings(host="127.0.0.1", port=8123).base_url == "http://127.0.0.1:8123"
    assert Settings(host="::1", port=8123).base_url == "http://[::1]:8123"


def test_a_public_url_is_used_as_given_without_its_trailing_slash() -> None:
    settings = Settings(public_url="https://tokens.example.com/tokend/")
    assert settings.base_url == "https://tokens.example.com/tokend"


@pytest.mark.parametrize(
    "url", ["tokens.example.com", "ftp://tokens.example.com", "https://", "https://x/?a=1"]
)
def test_a_public_url_must_be_http_or_https_without_query(url: str) -> None:
    with pytest.raises(ValidationError, match="use http"):
        Settings(public_url=url)


def test_session_timeouts_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        Settings(session_idle_s=0)
    assert Settings(session_idle_s=3).session_idle_s == 3


def test_sign_in_through_an_identity_provider_is_off_by_default() -> None:
    settings = Settings()
    assert not settings.oidc_enabled
    assert settings.oidc_scopes == "openid email profile"
    assert not settings.oidc_create_users


def test_the_identity_provider_needs_issuer_client_id_and_secret_together() -> None:
    with pytest.raises(ValidationError, match="or none of them"):
        Settings(oidc_issuer="https://idp.example.com", oidc_client_id="tokend")
    with pytest.raises(ValidationError, match="or none of them"):
        Settings(oidc_client_secret=SecretStr("s3cret"))
    settings = Settings(
        oidc_issuer="https://login.microsoftonline.com/TENANT/v2.0",
        oidc_client_id="tokend",
        oidc_client_secret=SecretStr("s3cret"),
        oidc_email_domains=" Example.com, @example.org ,",
    )
    assert settings.oidc_enabled
    assert settings.oidc_email_domain_list == ["example.com", "example.org"]
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    "issuer",
    ["idp.example.com", "ftp://idp.example.com", "http://idp.example.com", "https://idp/?a=1"],
)
def test_the_issuer_must_be_https_or_on_this_machine(issuer: str) -> None:
    with pytest.raises(ValidationError, match="oidc_issuer"):
        Settings(
            oidc_issuer=issuer, oidc_client_id="tokend", oidc_client_secret=SecretStr("s3cret")
        )


def test_an_issuer_on_this_machine_may_be_http() -> None:
    for issuer in ("http://localhost:8080/realms/x", "http://127.0.0.1:9000"):
        settings = Settings(
            oidc_issuer=issuer, oidc_client_id="c", oidc_client_secret=SecretStr("s")
        )
        assert settings.oidc_issuer == issuer


def test_the_scopes_must_include_openid_and_domains_be_domains() -> None:
    with pytest.raises(ValidationError, match="must include openid"):
        Settings(oidc_scopes="email profile")
    with pytest.raises(ValidationError, match="not an email domain"):
        Settings(oidc_email_domains="example.com, localhost")


def test_expiry_warnings_are_durations_largest_first() -> None:
    settings = Settings()
    assert settings.expiry_thresholds_ms == (30 * 86_400_000, 7 * 86_400_000, 86_400_000)
    assert settings.expiry_scan_interval == 60_000
    assert Settings(expiry_warnings=" 1h, 2d,1h").expiry_thresholds_ms == (172_800_000, 3_600_000)
    assert Settings(expiry_warnings="").expiry_thresholds_ms == ()
    assert Settings.model_validate({"expiry_scan_interval": "5s"}).expiry_scan_interval == 5000
    with pytest.raises(ValidationError, match="'3w' is not a duration"):
        Settings(expiry_warnings="7d,3w")
    with pytest.raises(ValidationError, match="is not a duration"):
        Settings.model_validate({"expiry_scan_interval": "0s"})


def test_webhook_durations_are_read_from_the_environment_in_ms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = Settings()
    assert defaults.webhook_retry_schedule == (
        5000,
        300_000,
        1_800_000,
        7_200_000,
        18_000_000,
        36_000_000,
    )
    assert defaults.webhook_disable_after == 3 * 86_400_000
    monkeypatch.setenv("TOKEND_WEBHOOK_RETRY_SCHEDULE", "1s, 2m,1h")
    monkeypatch.setenv("TOKEND_WEBHOOK_DISABLE_AFTER", "12h")
    settings = Settings()
    assert settings.webhook_retry_schedule == (1000, 120_000, 3_600_000)
    assert settings.webhook_disable_after == 12 * 3_600_000
    monkeypatch.setenv("TOKEND_WEBHOOK_RETRY_SCHEDULE", " , ")
    with pytest.raises(ValidationError, match="at least one duration"):
        Settings()
    monkeypatch.setenv("TOKEND_WEBHOOK_RETRY_SCHEDULE", "[1, 2]")
    with pytest.raises(ValidationError, match="is not a duration"):
        Settings()


def test_the_smtp_url_names_server_and_login_and_keeps_the_password_out_of_sight() -> None:
    settings = Settings(
        smtp_url=SecretStr("smtps://mailer:p%40ss-word@mail.example.com"),
        smtp_from="tokend <tokend@example.com>",
    )
    server = settings.smtp_server
    assert server is not None
    assert (server.host, server.port, server.implicit_tls) == ("mail.example.com", 465, True)
    assert (server.username, server.password) == ("mailer", "p@ss-word")
    assert "p@ss-word" not in repr(server)
    assert "p%40ss-word" not in repr(settings)
    plain = Settings(smtp_url=SecretStr("smtp://relay:2525"), smtp_from="t@example.com")
    assert plain.smtp_server is not None
    assert (plain.smtp_server.port, plain.smtp_server.implicit_tls) == (2525, False)
    assert plain.smtp_server.username is None
    assert Settings(smtp_url=SecretStr("")).smtp_server is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://u:hunter2-pw@mail.example.com", "use smtp:// or smtps://"),
        ("smtp://u:hunter2-pw@", "names no host"),
        ("smtp://u:hunter2-pw@mail.example.com/inbox", "no path, query or fragment"),
        ("smtp://u:hunter2-pw@mail.example.com:99999", "not a URL"),
        ("smtp://only-user@mail.example.com", "both a user and a password"),
    ],
)
def test_a_bad_smtp_url_is_refused_in_words_without_its_password(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        Settings(smtp_url=SecretStr(url), smtp_from="t@example.com")
    assert "hunter2" not in "; ".join(error["msg"] for error in refused.value.errors())


def test_an_smtp_url_needs_a_valid_sender() -> None:
    with pytest.raises(ValidationError, match="set TOKEND_SMTP_FROM"):
        Settings(smtp_url=SecretStr("smtp://relay"))
    with pytest.raises(ValidationError, match="not an email address"):
        Settings(smtp_url=SecretStr("smtp://relay"), smtp_from="tokend")
