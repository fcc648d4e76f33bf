"""The environment a benchmark runs in: a throwaway data directory, DEBUG settings, and an embedded
Redis unless REDIS_URL points at one."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
