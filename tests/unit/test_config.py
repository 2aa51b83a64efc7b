"""Settings: bad values name the variable; production defaults are safe."""

from __future__ import annotations

import pytest

from incident_service.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RATE_LIMIT_PER_KEY": "lots"}, "RATE_LIMIT_PER_KEY"),
        ({"OIDC_ISSUER": "https://idp"}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "https://idp", "OIDC_HS256_SECRET": "s"}, "OIDC_AUDIENCE"),
        ({"SMTP_URL": "http://mail.example.com"}, "SMTP_URL"),
        ({"SMTP_URL": "smtp://mail.example.com"}, "EMAIL_FROM"),
        ({"SMTP_URL": "smtp://mail.example.com", "EMAIL_FROM": "s@example.com"}, "STATUS_PAGE_URL"),
        ({"SMTP_URL_FILE": "/"}, "SMTP_URL_FILE"),
        ({"SUBSCRIBE_RATE_LIMIT_PER_IP": "lots"}, "SUBSCRIBE_RATE_LIMIT_PER_IP"),
        ({"REQUIRE_POSTMORTEM_FOR": "P1,P9"}, "REQUIRE_POSTMORTEM_FOR"),
        ({"ADMIN_API_KEY": "short"}, "ADMIN_API_KEY: at least 24"),
        ({"METRICS_BEARER_TOKEN": "short"}, "METRICS_BEARER_TOKEN: at least 24"),
        (
            {"OIDC_ISSUER": "https://idp", "OIDC_AUDIENCE": "a", "OIDC_HS256_SECRET": "five5"},
            "OIDC_HS256_SECRET: at least 32",
        ),
    ],
)
def test_bad_auth_and_email_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PROFILE", "production")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/?replicaSet=rs0")
    settings = load_settings()
    assert not settings.introspection_enabled and not settings.field_suggestions_enabled
    assert settings.rate_limit_per_key and settings.rate_limit_per_ip
    assert not settings.oidc_enabled


def test_logs_are_text_in_development_and_json_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert load_settings().log_format_effective == "text"
    monkeypatch.setenv("APP_PROFILE", "production")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/?replicaSet=rs0")
    assert load_settings().log_format_effective == "json"
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert load_settings().log_format_effective == "text"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STATUS_PAGE_HISTORY_DAYS", "0"),
        ("STATUS_PAGE_HISTORY_DAYS", "91"),
        ("MAINTENANCE_MAX_DAYS", "0"),
        ("JOBS_POLL_INTERVAL", "0"),
        ("JOBS_LEASE_SECONDS", "0.5"),
        ("STATUS_PAGE_URL", "status.example.com"),
    ],
)
def test_status_page_and_job_settings_out_of_range_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_email_is_off_in_production_without_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().email_enabled  # development: emails are logged
    monkeypatch.setenv("APP_PROFILE", "production")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/?replicaSet=rs0")
    assert not load_settings().email_enabled


def test_a_missing_smtp_url_file_means_no_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_URL_FILE", "/nonexistent/smtp-url")
    assert load_settings().smtp_url == ""


def test_postmortem_policy_is_a_set_of_priorities(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {p.value for p in load_settings().postmortem_required_for} == {"P1", "P2"}
    monkeypatch.setenv("REQUIRE_POSTMORTEM_FOR", " p3 , P1,")
    assert {p.value for p in load_settings().postmortem_required_for} == {"P1", "P3"}
    monkeypatch.setenv("REQUIRE_POSTMORTEM_FOR", "")
    assert load_settings().postmortem_required_for == frozenset()
