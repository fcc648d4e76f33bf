"""The production configuration passes Django's deployment checklist; unsafe setups refuse to
start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.support.live import ROOT

# A production configuration written out by hand, so this runs without helm. The chart's own,
# rendered, is checked the same way in tests/deploy/test_chart_security.py.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "fabrikam.settings.production",  # manage.py's default is local
    "FABRIKAM_ROLE": "delivery",
    "ALLOWED_HOSTS": "fabrikam.example.com",
    "TRUST_X_FORWARDED_PROTO": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "AUTH_ENTRA_TENANT_ID": "00000000-0000-0000-0000-0000000000aa",
    "AUTH_AUDIENCE": "api://fabrikam",
    "AUTH_SERVICE_TOKEN_SCOPE": "api://fabrikam/.default",
    "DATABASE_URL": "postgres://fabrikam@db.example/fabrikam",
    "REDIS_URL": "rediss://cache.example:6380/0",
    "CELERY_BROKER_URL": "amqp://guest@broker.example//",
}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AUTH_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_the_production_settings(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY_FILE": str(tmp_path / "secret-key")}
    (tmp_path / "secret-key").write_text(secrets.token_urlsafe(64))
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_set_so_a_secret_key_is_required():
    env = {name: value for name, value in PRODUCTION.items()}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_without_an_issuer_production_refuses_to_start():
    env = {
        **{k: v for k, v in PRODUCTION.items() if not k.startswith("AUTH_")},
        "SECRET_KEY": secrets.token_urlsafe(64),
    }
    result = manage(env, "check")
    assert result.returncode != 0
    assert "No token issuer" in result.stderr
