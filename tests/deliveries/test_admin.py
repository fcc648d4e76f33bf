"""Deliveries in Django admin: list, search, stage filter, detail with events, cancel."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from fabrikam.apps.deliveries import repository
from tests.deliveries.conftest import stages
from tests.deliveries.factories import FlightUpdateFactory, OwnerFactory, minutes_from_now
from tests.support.live import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

LIST = "/admin/deliveries/delivery/"


def listed_ids(response) -> list[str]:
    """The deliveries the list page links to, top to bottom."""
    assert response.status_code == 200
    return re.findall(rf'href="{LIST}([^/"]+)/change/"', response.content.decode())


def test_the_admin_index_links_to_deliveries(admin_client, redis_store):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert f'href="{LIST}"' in response.content.decode()


def test_the_list_shows_deliveries_newest_first(admin_client, create):
    first, _ = create()
    second, _ = create()

    response = admin_client.get(LIST)

    assert response.status_code == 200
    assert listed_ids(response) == [second, first]
    assert "2 deliveries" in response.content.decode()


def test_search_by_id_or_owner_and_filter_by_stage(api, admin_client, create):
    owner = OwnerFactory()
    mine = [create(owner=owner)[0] for _ in range(3)]
    others, _ = create()
    api.delete(f"/api/deliveries/{mine[0]}")

    by_owner = listed_ids(admin_client.get(LIST, {"q": owner["userId"]}))
    by_id = listed_ids(admin_client.get(LIST, {"q": others}))
    cancelled = listed_ids(admin_client.get(LIST, {"stage": "Cancelled"}))
    mine_created = listed_ids(admin_client.get(LIST, {"q": owner["userId"], "stage": "Created"}))

    assert sorted(by_owner) == sorted(mine)
    assert by_id == [others]
    assert cancelled == [mine[0]]
    assert sorted(mine_created) == sorted(mine[1:])


def test_the_list_pages_through_the_index(admin_client, create):
    ids = [create()[0] for _ in range(55)]

    first = listed_ids(admin_client.get(LIST))
    second = listed_ids(admin_client.get(LIST, {"p": 2}))

    assert first + second == ids[::-1]
    assert len(first) == 50


def test_the_detail_page_shows_the_events(api, admin_client, create):
    new_id, _ = create()
    api.post(
        f"/api/deliveries/{new_id}/tracking",
        FlightUpdateFactory(stage="HeadedToPickup", timestamp=minutes_from_now(1)),
        format="json",
    )

    response = admin_client.get(f"{LIST}{new_id}/change/")

    assert response.status_code == 200
    assert [e.stage for e in response.context["events"]] == ["Created", "HeadedToPickup"]
    events_table = response.content.decode().split('id="events"')[1].split("</table>")[0]
    assert "<td>Created</td>" in events_table
    assert "<td>HeadedToPickup</td>" in events_table
    assert 'id="cancel"' in response.content.decode()


def test_cancel_from_the_detail_page(api, admin_client, create):
    new_id, _ = create()

    response = admin_client.post(f"{LIST}{new_id}/cancel/", follow=True)

    assert response.status_code == 200
    assert "is cancelled" in response.content.decode()
    assert api.get(f"/api/deliveries/{new_id}").json()["stage"] == "Cancelled"
    assert stages(api, new_id) == ["Created", "Cancelled"]
    assert 'id="cancel"' not in response.content.decode()


def test_an_unknown_delivery_redirects_to_the_list_with_a_message(admin_client, redis_store):
    response = admin_client.get(f"{LIST}no-such-delivery/change/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:deliveries_delivery_changelist")
    assert "There is no delivery no-such-delivery." in response.content.decode()


def test_staff_need_the_view_permission_and_the_change_permission_to_cancel(client, api, create):
    new_id, _ = create()
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)
    assert client.get(LIST).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    assert client.get(LIST).status_code == 200
    assert 'id="cancel"' not in client.get(f"{LIST}{new_id}/change/").content.decode()
    assert client.post(f"{LIST}{new_id}/cancel/").status_code == 403
    assert api.get(f"/api/deliveries/{new_id}").json()["stage"] == "Created"


def test_expired_cancellations_leave_the_list(api, admin_client, create, redis_store, settings):
    settings.DELIVERY_CANCELLED_TTL_SECONDS = 1
    kept, _ = create()
    cancelled, _ = create()
    api.delete(f"/api/deliveries/{cancelled}")
    wait_until(
        lambda: api.get(f"/api/deliveries/{cancelled}").status_code == 404,
        5,
        "Redis to expire the cancelled delivery",
    )

    response = admin_client.get(LIST)

    assert listed_ids(response) == [kept]
    assert "1 delivery" in response.content.decode()
    assert listed_ids(admin_client.get(LIST, {"stage": "Cancelled"})) == []
    index = repository.key("all")
    assert [member.decode() for member in redis_store.zrange(index, 0, -1)] == [kept]
