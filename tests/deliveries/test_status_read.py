"""A status read decodes only the fields it needs (`repository.load_status`): for any delivery,
the same owner and status as the whole delivery's (`get_delivery`, `status_of`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabrikam.apps.deliveries import selectors
from fabrikam.apps.deliveries.exceptions import DeliveryNotFound
from tests.deliveries.factories import (
    DeliveryBodyFactory,
    FlightUpdateFactory,
    delivery_id,
    minutes_from_now,
)

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

FLIGHT_STAGES = ["HeadedToPickup", "HeadedToDropoff", "Completed"]

plans = st.fixed_dictionaries(
    {
        "etas": st.booleans(),
        "updates": st.lists(st.tuples(st.sampled_from(FLIGHT_STAGES), st.booleans()), max_size=3),
        "ending": st.sampled_from(["open", "cancelled", "stored cancelled"]),
        # A reason the API takes: no control characters (NUL is refused), not only whitespace.
        "reason": st.text(
            st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20
        ).filter(str.strip),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=plans)
def test_the_status_read_agrees_with_the_whole_delivery(api, redis_store, plan):
    new_id = delivery_id()
    body = DeliveryBodyFactory()
    if plan["etas"]:
        body.update(pickupETA=minutes_from_now(5), deliveryETA=minutes_from_now(30))
    if plan["ending"] == "stored cancelled":
        body.update(stage="Cancelled", reason=plan["reason"])
    assert api.put(f"/api/deliveries/{new_id}", body, format="json").status_code == 201
    for stage, with_etas in plan["updates"]:
        update = FlightUpdateFactory(stage=stage)
        if not with_etas:
            update.pop("pickupETA"), update.pop("deliveryETA")
        api.post(f"/api/deliveries/{new_id}/tracking", update, format="json")  # 204 or 409
    if plan["ending"] == "cancelled":
        api.delete(f"/api/deliveries/{new_id}", {"reason": plan["reason"]}, format="json")

    whole = selectors.get_delivery(new_id)
    assert selectors.owner_and_status(new_id) == (
        whole.owner.account_id,
        selectors.status_of(whole),
    )


def test_a_missing_delivery_is_not_found_by_either_read(redis_store):
    missing = delivery_id()
    with pytest.raises(DeliveryNotFound):
        selectors.get_delivery(missing)
    with pytest.raises(DeliveryNotFound):
        selectors.owner_and_status(missing)
