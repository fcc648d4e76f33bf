"""Idempotency keys against the real Redis: one claimant publishes, the others wait for its
outcome; a failed or abandoned attempt is retried under the same delivery and message id."""

from __future__ import annotations

import threading
import uuid

import pytest

from fabrikam.apps.ingestion import idempotency, messages
from fabrikam.apps.ingestion.api.serializers import DeliveryRequestSerializer
from fabrikam.apps.ingestion.exceptions import IdempotencyKeyReused
from tests.ingestion.factories import DeliveryRequestFactory
from tests.ingestion.test_validation import assert_problem
from tests.support.live import wait_until

URL = "/api/deliveryrequests"
CLAIMANTS = 20


def shorten_publish_bounds(settings) -> None:
    """Publishing bounded to 0.1 s: a lease taken now lasts 0.2 s, a wait for an outcome 1.1 s."""
    settings.BROKER_CONNECT_TIMEOUT = 0.02
    settings.BROKER_PUBLISH_TIMEOUT = 0.04


def new_claim(key: str, fingerprint: str = "fp") -> idempotency.Claim:
    delivery_id = uuid.uuid4().hex
    return idempotency.claim(key, fingerprint, delivery_id, f"{delivery_id}:delivery:1")


def claim_together(key: str, count: int) -> list[idempotency.Claim]:
    """`count` threads claim `key` at the same moment; the one told to publish completes."""
    start = threading.Barrier(count)
    claims: list = [None] * count

    def run(index: int) -> None:
        start.wait()
        claim = new_claim(key)
        if claim.outcome == idempotency.PUBLISH:
            idempotency.complete(claim)
        claims[index] = claim

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return claims


def test_one_of_many_simultaneous_claims_publishes_and_the_rest_get_its_delivery(redis_store):
    claims = claim_together("order-1", CLAIMANTS)

    publishers = [c for c in claims if c.outcome == idempotency.PUBLISH]
    assert len(publishers) == 1
    assert {c.outcome for c in claims if c not in publishers} <= {idempotency.QUEUED}
    assert {(c.delivery_id, c.message_id) for c in claims} == {
        (publishers[0].delivery_id, publishers[0].message_id)
    }


def test_a_later_claim_after_completion_is_told_it_is_queued(redis_store):
    first = new_claim("order-2")
    idempotency.complete(first)

    later = new_claim("order-2")

    assert later.outcome == idempotency.QUEUED
    assert later.delivery_id == first.delivery_id


def test_a_claim_with_another_fingerprint_is_refused(redis_store):
    new_claim("order-3", "fp-1")
    with pytest.raises(IdempotencyKeyReused):
        new_claim("order-3", "fp-2")


def test_after_a_failed_publish_a_retry_publishes_the_same_delivery_and_message(redis_store):
    first = new_claim("order-4")
    idempotency.abandon(first)

    retry = new_claim("order-4")

    assert retry.outcome == idempotency.PUBLISH
    assert (retry.delivery_id, retry.message_id) == (first.delivery_id, first.message_id)


def test_a_waiting_claim_learns_that_the_publish_failed(redis_store):
    first = new_claim("order-5")
    outcome: list[idempotency.Claim] = []
    waiter = threading.Thread(target=lambda: outcome.append(new_claim("order-5")))
    waiter.start()
    wait_until(lambda: waiting_claims(redis_store) == 1, 10, "the second claim to wait")

    idempotency.abandon(first)
    waiter.join(10)

    assert outcome[0].outcome == idempotency.FAILED
    assert outcome[0].delivery_id == first.delivery_id


def waiting_claims(redis_store) -> int:
    """Clients of this test's Redis database blocked reading an outcome stream."""
    db = redis_store.connection_pool.connection_kwargs.get("db", 0)
    return sum(
        1
        for client in redis_store.client_list()
        if client["cmd"] == "xread" and "b" in client["flags"] and int(client["db"]) == db
    )


def test_a_claim_left_by_a_dead_process_is_taken_over_when_its_lease_runs_out(
    redis_store, settings
):
    shorten_publish_bounds(settings)
    orphan = new_claim("order-6")  # its process died: never completed nor abandoned
    lease = idempotency._keys("order-6")[1]
    wait_until(lambda: not redis_store.exists(lease), 10, "the publishing lease to run out")

    takeover = new_claim("order-6")

    assert takeover.outcome == idempotency.PUBLISH
    assert takeover.delivery_id == orphan.delivery_id


def test_a_retry_while_the_first_request_is_still_publishing_is_a_409(
    api, received, redis_store, settings
):
    body = DeliveryRequestFactory()
    # Another process holds the key (a lease of the default 16 s) and does not finish while the
    # retry waits for it (1.1 s).
    new_claim(
        idempotency.scoped_key("tests", "order-7"),  # the `api` client's own key
        idempotency.fingerprint(_normalized(api, body)),
    )
    shorten_publish_bounds(settings)

    response = api.post(URL, body, format="json", headers={"Idempotency-Key": "order-7"})

    problem = assert_problem(response, 409)
    assert response["Retry-After"] == "1"
    assert problem["type"].endswith("/idempotent-request-in-progress")
    assert received() == []


def test_a_retry_while_the_first_request_fails_is_a_503(api, received, redis_store):
    body = DeliveryRequestFactory()
    first = new_claim(
        idempotency.scoped_key("tests", "order-8"), idempotency.fingerprint(_normalized(api, body))
    )
    answers: list = []
    retry = threading.Thread(
        target=lambda: answers.append(
            api.post(URL, body, format="json", headers={"Idempotency-Key": "order-8"})
        )
    )
    retry.start()
    wait_until(lambda: waiting_claims(redis_store) == 1, 10, "the retry to wait for the first")

    idempotency.abandon(first)  # as the first request does when the broker refuses
    retry.join(10)

    assert_problem(answers[0], 503)
    assert answers[0]["Retry-After"] == "5"
    assert received() == []


def _normalized(api, body: dict) -> dict:
    """The request as the ingestion normalizes it (what its fingerprint covers)."""
    serializer = DeliveryRequestSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    return messages.echo(serializer.validated_data)
