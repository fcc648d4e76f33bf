"""Which settings a process loads: a checkout's manage.py the local ones (DEBUG on, no secrets),
gunicorn and Celery the production ones (a secret key and a token issuer, or they refuse to
start), and DJANGO_SETTINGS_MODULE over both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import ROOT

# What a developer's shell has: none of the variables the test session sets for its settings.
UNSET = ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "AUTH_", "FABRIKAM_DATA_DIR")


def clean_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(UNSET)}
    return {**env, "FABRIKAM_DATA_DIR": str(tmp_path), **variables}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SHOW = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"


def shown(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What SHOW printed: the last line (`manage.py shell` reports its auto-imports first)."""
    return result.stdout.strip().splitlines()[-1].split()


def test_manage_py_in_a_checkout_uses_the_local_settings(tmp_path):
    result = run([sys.executable, "manage.py", "shell", "-c", SHOW], clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert shown(result) == ["fabrikam.settings.local", "True"]


def test_issue_token_works_in_a_checkout_without_debug_or_secrets(tmp_path):
    env = clean_env(tmp_path)
    migrate = run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    assert migrate.returncode == 0, migrate.stderr
    result = run([sys.executable, "manage.py", "issue_token", "--owner", "contoso"], env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.count(".") == 2, token  # a JWT, signed with the key made in FABRIKAM_DATA_DIR


def test_the_local_settings_still_require_a_secret_key_when_debug_is_turned_off(tmp_path):
    result = run([sys.executable, "manage.py", "check"], clean_env(tmp_path, DEBUG="false"))
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_django_settings_module_overrides_manage_pys_choice(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="fabrikam.settings.production")
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    "entry_point",
    [
        "fabrikam.asgi",  # the application gunicorn serves
        "fabrikam.server.gunicorn_hooks",  # gunicorn's --config
        "fabrikam.celery",  # `celery -A fabrikam`
    ],
)
def test_gunicorn_and_celery_load_the_production_settings(tmp_path, entry_point):
    script = f"import {entry_point}; {SHOW}"
    env = clean_env(tmp_path)
    refused = run([sys.executable, "-c", script], env)
    assert refused.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in refused.stderr

    secrets = {"SECRET_KEY": "s" * 50, "AUTH_SIGNING_KEY": os.environ["AUTH_SIGNING_KEY"]}
    result = run([sys.executable, "-c", script], {**env, **secrets})
    assert result.returncode == 0, result.stderr
    assert shown(result) == ["fabrikam.settings.production", "False"]


def test_the_old_settings_name_still_means_production(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="fabrikam.settings", DEBUG="true")
    result = run([sys.executable, "manage.py", "shell", "-c", SHOW], env)
    assert result.returncode == 0, result.stderr
    assert shown(result) == ["fabrikam.settings", "True"]
    refused = run([sys.executable, "manage.py", "check"], {**env, "DEBUG": "false"})
    assert "SECRET_KEY is required when DEBUG is off" in refused.stderr


def test_the_suite_itself_runs_on_the_test_settings():
    # The test settings put SQLite in a file, whose busy timeout concurrent tests rely on.
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "fabrikam.settings.test"
