from __future__ import annotations

from tests.deliveries.conftest import create  # noqa: F401  (the PUT-a-delivery fixture)
