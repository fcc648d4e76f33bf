"""Deliveries in Django admin: a list (search by id or owner, filter by stage), a detail page with
the events, confirmation and notify-me requests, and cancel.

Deliveries are not ORM rows, so the ModelAdmin of the table-less `models.Delivery` replaces the
changelist and change views with views over the app's selectors and services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from fabrikam.apps.deliveries import models, selectors, services
from fabrikam.apps.deliveries.stages import CLOSED_STAGES
from fabrikam.contract.enums import DeliveryStage
from fabrikam.web.problems import DomainError

PAGE_SIZE = 50


class _IndexPage:
    """What Django's Paginator needs from a list it does not hold: its length and a slice, read
    from the Redis indexes one page at a time."""

    def __init__(self, query: str, stage: DeliveryStage | None) -> None:
        self.query, self.stage = query, stage
        self.total: int | None = None

    def count(self) -> int:
        if self.total is None:
            self.total = selectors.search_deliveries(self.query, self.stage, 0, 1).total
        return self.total

    def __getitem__(self, window: slice) -> list[Any]:
        page = selectors.search_deliveries(
            self.query, self.stage, window.start, window.stop - window.start
        )
        self.total = page.total
        return page.deliveries


@admin.register(models.Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deliveries are cancelled, not deleted

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.list_view), name="deliveries_delivery_changelist"),
            path(
                "<id:delivery_id>/change/",
                wrap(self.detail_view),
                name="deliveries_delivery_change",
            ),
            path(
                "<id:delivery_id>/cancel/",
                wrap(require_POST(self.cancel_view)),
                name="deliveries_delivery_cancel",
            ),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def list_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()
        stage_name = request.GET.get("stage", "")
        stage = DeliveryStage(stage_name) if stage_name in DeliveryStage.values else None
        paginator = Paginator(_IndexPage(query, stage), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("p"))
        return render(
            request,
            "admin/deliveries/delivery/list.html",
            self._context(
                request,
                "Deliveries",
                page=page,
                query=query,
                stage=stage_name if stage else "",
                stages=DeliveryStage.values,
            ),
        )

    def detail_view(self, request: HttpRequest, delivery_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            delivery = selectors.get_delivery(delivery_id)
        except DomainError as error:
            messages.error(request, error.detail)
            return HttpResponseRedirect(reverse("admin:deliveries_delivery_changelist"))
        return render(
            request,
            "admin/deliveries/delivery/detail.html",
            self._context(
                request,
                f"Delivery {delivery_id}",
                delivery=delivery,
                status=selectors.delivery_status(delivery_id),
                events=selectors.delivery_events(delivery_id),
                confirmation=selectors.delivery_confirmation(delivery_id),
                notify_me=selectors.notify_me_requests(delivery_id),
                can_cancel=self.has_change_permission(request)
                and delivery.stage not in CLOSED_STAGES,
            ),
        )

    def cancel_view(self, request: HttpRequest, delivery_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            cancellation = services.cancel_delivery(delivery_id)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request,
                f"Delivery {delivery_id} is cancelled; it expires at "
                f"{cancellation.expires_at:%Y-%m-%d %H:%M} UTC.",
            )
        return HttpResponseRedirect(reverse("admin:deliveries_delivery_change", args=[delivery_id]))
