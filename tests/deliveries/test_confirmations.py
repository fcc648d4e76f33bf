"""Confirmations (type-checked) and notify-me requests."""

from __future__ import annotations

import pytest

from fabrikam.apps.deliveries import selectors
from tests.deliveries.conftest import stages
from tests.deliveries.factories import ConfirmationFactory, NotifyMeFactory

pytestmark = [pytest.mark.redis]


def confirm(api, delivery_id: str, **fields):
    return api.post(
        f"/api/deliveries/{delivery_id}/confirmations", ConfirmationFactory(**fields), format="json"
    )


def test_a_confirmation_of_the_wrong_type_is_422(api, create):
    new_id, _ = create(confirmationRequired="Picture")

    response = confirm(api, new_id, confirmationType="Voice")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"confirmationType": ["Must be Picture."]}
    assert stages(api, new_id) == ["Created"]
    assert selectors.delivery_confirmation(new_id) is None


def test_the_required_type_completes_the_delivery(api, create):
    new_id, _ = create(confirmationRequired="Picture")

    response = confirm(api, new_id, confirmationType="Picture", confirmationBlob="aGVsbG8=")

    assert response.status_code == 200
    assert response.json()["stage"] == "Completed"
    assert selectors.delivery_confirmation(new_id).confirmation_blob == "aGVsbG8="


def test_a_second_confirmation_is_409(api, create):
    new_id, _ = create()
    confirm(api, new_id)
    assert confirm(api, new_id).status_code == 409
    assert stages(api, new_id) == ["Created", "Completed"]


def test_a_completed_delivery_is_not_replaced_by_a_late_put(api, create):
    new_id, body = create()
    confirm(api, new_id)
    response = api.put(f"/api/deliveries/{new_id}", {**body, "droneId": "other"}, format="json")
    assert response.status_code == 409
    assert response.json()["stage"] == "Completed"  # the saga's replay reads this member
    assert api.get(f"/api/deliveries/{new_id}").json()["droneId"] == body["droneId"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("confirmationType", "Signature"), ("geoCoordinates", "front door"), ("dateTime", "")],
)
def test_bad_confirmations_are_400(api, create, field, value):
    new_id, _ = create()
    response = confirm(api, new_id, **{field: value})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_notify_me_requests_are_stored_once_each(api, create):
    new_id, _ = create()
    first, second = NotifyMeFactory(), NotifyMeFactory(sms="")

    answers = [
        api.post(f"/api/deliveries/{new_id}/notifymerequests", body, format="json")
        for body in (first, second, first)
    ]

    assert [a.status_code for a in answers] == [204, 204, 204]
    stored = selectors.notify_me_requests(new_id)
    assert [(r.email_address, r.sms) for r in stored] == [
        (first["emailAddress"], first["sms"]),
        (second["emailAddress"], ""),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emailAddress": "not-an-email"}, "emailAddress"),
        ({"sms": "call me"}, "sms"),
        ({"emailAddress": "", "sms": ""}, "body"),
    ],
)
def test_bad_notify_me_requests_are_400(api, create, body, field):
    new_id, _ = create()
    response = api.post(f"/api/deliveries/{new_id}/notifymerequests", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert selectors.notify_me_requests(new_id) == []


def test_no_notify_me_for_a_cancelled_delivery(api, create):
    new_id, _ = create()
    api.delete(f"/api/deliveries/{new_id}")
    response = api.post(
        f"/api/deliveries/{new_id}/notifymerequests", NotifyMeFactory(), format="json"
    )
    assert response.status_code == 409
