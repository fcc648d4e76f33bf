from __future__ import annotations

# Fixtures shared with other test packages: a PUT-a-delivery helper, and the real processes.
from tests.deliveries.conftest import create  # noqa: F401
from tests.e2e.conftest import live, system_env  # noqa: F401
