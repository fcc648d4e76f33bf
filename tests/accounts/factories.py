from __future__ import annotations

import factory

from fabrikam.apps.accounts.models import ApiClient, Business


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business
        django_get_or_create = ["owner_id"]

    owner_id = factory.Sequence(lambda n: f"business-{n}")
    name = factory.LazyAttribute(lambda b: f"Business {b.owner_id}")


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiClient

    business = factory.SubFactory(BusinessFactory)
    name = "Dispatch app"
    client_id = factory.Sequence(lambda n: f"client-{n:04d}")
