"""What authentication, authorization and throttling cost a request.

Baseline: an anonymous GET of a public delivery with no throttles, in-process (Django and DRF, one
Redis read). Measured in the same run, each as a ratio to it: the same with the per-IP throttle
(one Redis script); GET /api/deliveries/{id} with an internal token (one RS256 check, no lookup,
not throttled); and with a business token (the check, the cached client lookup, both throttles
and the owner check) — what a client's every call pays.

    .venv/bin/python bench/auth_overhead.py [--requests 1000]

Runs on the embedded Redis and a throwaway SQLite unless REDIS_URL / DATABASE_URL are set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.local_stores import local_stores

ROUNDS = 5


def per_request(name: str, run: Callable[[], None], count: int) -> float:
    """Median over ROUNDS of the mean seconds per request."""
    run()  # warm up (key loading, client lookup cache)
    rounds = []
    for round_number in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(count):
            run()
        rounds.append((time.perf_counter() - started) / count)
        print(f"  {name}: round {round_number + 1}/{ROUNDS}", flush=True)
    return statistics.median(rounds)


def run(count: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings
    from rest_framework.test import APIClient

    from fabrikam.apps.accounts import services
    from tests.deliveries.factories import DeliveryBodyFactory
    from tests.support import auth

    call_command("migrate", verbosity=0)
    client_id = services.ensure_local_client("bench-business").client_id
    host = {"HTTP_HOST": "127.0.0.1"}
    internal = auth.api_client("internal", **host)
    business = auth.api_client("deliveries.read", client_id=client_id, **host)
    anonymous = APIClient(**host)
    owner = {"userId": "bench-business", "accountId": "bench-business"}
    assert internal.put("/api/deliveries/bench-1", DeliveryBodyFactory(owner=owner), format="json")

    def get(client: APIClient, path: str) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        return call

    unthrottled = {"DEFAULT_THROTTLE_CLASSES": []}
    rates = {"THROTTLE_CLIENT_RATE": "1000000/minute", "THROTTLE_IP_RATE": "1000000/minute"}
    with override_settings(**rates):
        from django.conf import settings

        def unthrottled_public() -> float:
            with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, **unthrottled}):
                return per_request(
                    "baseline", get(anonymous, "/api/deliveries/public/bench-1"), count
                )

        before = unthrottled_public()
        results = {
            "public GET, IP throttle": per_request(
                "ip", get(anonymous, "/api/deliveries/public/bench-1"), count
            ),
            "GET, internal token": per_request(
                "internal", get(internal, "/api/deliveries/bench-1"), count
            ),
            "GET, business token": per_request(
                "business", get(business, "/api/deliveries/bench-1"), count
            ),
        }
        after = unthrottled_public()  # the baseline again: warm-up and drift show here
    baseline = (before + after) / 2
    print(f"\nbaseline: before {before * 1000:.3f} ms, after {after * 1000:.3f} ms")
    results = {"public GET, no throttle (baseline)": baseline, **results}
    print(f"\n{'case':<38}{'ms/request':>12}{'x baseline':>12}")
    for name, seconds in results.items():
        print(f"{name:<38}{seconds * 1000:>12.3f}{seconds / baseline:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with local_stores():
        run(args.requests)


if __name__ == "__main__":
    main()
