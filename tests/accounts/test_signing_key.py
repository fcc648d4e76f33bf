"""The local signing key: given, or generated once for `make run` (DEBUG)."""

from __future__ import annotations

import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from fabrikam.apps.accounts import signing_key, tokens


def test_with_debug_and_no_key_one_is_generated_once_and_kept_private(settings, tmp_path):
    settings.AUTH_SIGNING_KEY = ""
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path
    token = tokens.issue("demo", ["deliveries.read"])
    key_file = tmp_path / "auth" / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_text()
    assert tokens.validate(token).client_id == "demo"  # a second process reads the same file
    assert signing_key.configured_pem() == first
    assert list((tmp_path / "auth").iterdir()) == [key_file]  # no drafts left behind


def test_without_debug_a_missing_key_says_what_to_set(settings):
    settings.AUTH_SIGNING_KEY = ""
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="AUTH_SIGNING_KEY is not set"):
        tokens.issue("demo", ["deliveries.read"])


def test_a_key_that_is_not_pem_is_named(settings):
    settings.AUTH_SIGNING_KEY = "not a key"
    with pytest.raises(ImproperlyConfigured, match="not a PEM private key"):
        tokens.issue("demo", ["deliveries.read"])
