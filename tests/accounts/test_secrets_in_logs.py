"""Tokens never reach the logs, whether they are accepted or refused."""

from __future__ import annotations

import logging

import pytest

from tests.accounts import forge
from tests.support import auth
from tests.support.auth import client_with

pytestmark = pytest.mark.django_db


def test_no_log_record_holds_a_token(caplog, redis_store):
    good, bad = auth.token(), forge.token(aud="api://elsewhere")
    with caplog.at_level(logging.DEBUG):
        assert client_with(good).get("/api/deliveries/d-1").status_code == 404
        assert client_with(bad).get("/api/deliveries/d-1").status_code == 401
    assert len(caplog.records) >= 2
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        for token in (good, bad):
            assert token.split(".")[2] not in text, record
