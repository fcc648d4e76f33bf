"""Ingestion: idempotency keys and what a client is told while the broker is down."""

from __future__ import annotations

from fabrikam.settings import env

IDEMPOTENCY_KEY_TTL_SECONDS = env.integer("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)
BROKER_RETRY_AFTER_SECONDS = env.integer("BROKER_RETRY_AFTER_SECONDS", 5)

# A delivery request's POST answered on gunicorn's event loop when it is a plain success that can be
# answered there exactly as Django would, with the Redis broker written to asynchronously
# (fabrikam/apps/ingestion/api/fast_requests.py); false: every POST goes to a Django thread.
INGEST_FAST_PATH = env.boolean("INGEST_FAST_PATH", True)
