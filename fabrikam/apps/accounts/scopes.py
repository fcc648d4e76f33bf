"""The token scopes (Entra app roles or delegated scopes) and what each one lets a caller do."""

from __future__ import annotations

READ = "deliveries.read"  # a business reads its own deliveries, packages and summaries
WRITE = "deliveries.write"  # a business requests, reschedules and cancels its own deliveries
ADMIN = "admin"  # the back office: reads and requests for every business
INTERNAL = "internal"  # the services themselves (workflow, scheduler): their write endpoints

ALL = (READ, WRITE, ADMIN, INTERNAL)
# Scopes that act for every business rather than one.
EVERY_OWNER = frozenset({ADMIN, INTERNAL})
