"""Deliveries (issue 5) and their tracking page and live stream (issue 8)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam.settings import env

DELIVERY_CANCELLED_TTL_SECONDS = env.integer("DELIVERY_CANCELLED_TTL_SECONDS", 7 * 24 * 3600)
DELIVERY_TOMBSTONE_TTL_SECONDS = env.integer("DELIVERY_TOMBSTONE_TTL_SECONDS", 90 * 24 * 3600)

# Streams per gunicorn worker. A stream is served from the worker's event loop and holds a socket
# (a file descriptor), not a thread: see "Slow clients and live tracking" in the README. Under
# another WSGI server a stream holds a thread, and at most GUNICORN_THREADS // 2 are served.
TRACKING_MAX_STREAMS = env.integer("TRACKING_MAX_STREAMS", 1000)
TRACKING_STREAM_MAX_SECONDS = env.number("TRACKING_STREAM_MAX_SECONDS", 300.0)
TRACKING_KEEPALIVE_SECONDS = env.number("TRACKING_KEEPALIVE_SECONDS", 15.0)
TRACKING_RETRY_AFTER_SECONDS = env.integer("TRACKING_RETRY_AFTER_SECONDS", 10)
TRACKING_POLL_SECONDS = env.number("TRACKING_POLL_SECONDS", 5.0)
for _name in (
    "TRACKING_MAX_STREAMS",
    "TRACKING_STREAM_MAX_SECONDS",
    "TRACKING_KEEPALIVE_SECONDS",
    "TRACKING_POLL_SECONDS",
):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be greater than 0")
del _name

# The status reads (token and public) answered on gunicorn's event loop when they can be answered
# there exactly as Django would (fabrikam/apps/deliveries/api/fast_status.py); false: every request
# goes to a Django thread.
STATUS_FAST_PATH = env.boolean("STATUS_FAST_PATH", True)
