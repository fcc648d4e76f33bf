"""Ingestion: idempotency keys and what a client is told while the broker is down."""

from __future__ import annotations

from fabrikam.settings import env

IDEMPOTENCY_KEY_TTL_SECONDS = env.integer("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)
BROKER_RETRY_AFTER_SECONDS = env.integer("BROKER_RETRY_AFTER_SECONDS", 5)
