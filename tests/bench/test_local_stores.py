"""`make bench` measures `make run`'s shape whatever service URLs the shell exported."""

from __future__ import annotations

import os

import pytest

from bench.support.local_stores import SERVICE_VARIABLES, make_run_shape


def test_make_run_shape_drops_the_service_urls_a_shell_exported_and_names_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in SERVICE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://user:secret@db.example:5432/production")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://user:secret@rabbitmq:5672//")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("GUNICORN_WORKERS", "2")

    dropped = make_run_shape()

    assert dropped == ["DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"]
    assert not any(name in os.environ for name in SERVICE_VARIABLES)
    assert os.environ["GUNICORN_WORKERS"] == "2"  # the shape's own settings stay


def test_make_run_shape_with_nothing_exported_drops_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in SERVICE_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    assert make_run_shape() == []
