"""The environment a benchmark runs in: a throwaway data directory, DEBUG settings, and an embedded
Redis unless REDIS_URL points at one; for `make bench`, `make run`'s stores whatever the shell
exported."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# The variables that point the system at servers of its own instead of `make run`'s SQLite and
# embedded Redis (fabrikam/settings), and at Application Insights.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "PACKAGES_DATABASE_URL",
    "MONGODB_URI",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SERVICE_BUS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
)


def make_run_shape() -> list[str]:
    """Drops the service variables from this process's environment, and so from every process it
    starts: `make bench` measures `make run`'s shape, and with a shell's DATABASE_URL it would
    measure another system (RabbitMQ, a remote Redis) and seed its fleet into that database.
    Returns the names it dropped."""
    return [name for name in SERVICE_VARIABLES if os.environ.pop(name, None) is not None]


@contextlib.contextmanager
def local_stores() -> Iterator[Path]:
    data_dir = Path(tempfile.mkdtemp(prefix="fabrikam-bench-"))
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("FABRIKAM_DATA_DIR", str(data_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fabrikam.settings")
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        from fabrikam.runtime import embedded_redis

        print("starting an embedded Redis …", flush=True)
        redis_server = embedded_redis.start(data_dir)
        os.environ["REDIS_URL"] = embedded_redis.url_for(data_dir)
    try:
        yield data_dir
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
