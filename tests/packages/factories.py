from __future__ import annotations

import factory
from django.conf import settings

from fabrikam.apps.packages.models import Package
from fabrikam.contract.packages import DeliveryState, PackageSize


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package
        # factory_boy writes to `default` unless told: follow the router's choice.
        database = settings.PACKAGES_DB_ALIAS

    package_id = factory.Sequence(lambda n: f"pkg-{n:05d}")
    size = PackageSize.MEDIUM
    weight = factory.Faker("pyfloat", min_value=0.1, max_value=20, right_digits=2)
    tag = factory.Faker("word")
    owner_id = "contoso"
    delivery_state = DeliveryState.REGISTERED


def package_body(**overrides: object) -> dict[str, object]:
    """A valid PUT body, as the workflow sends it."""
    return {"size": "Small", "weight": 1.5, "tag": "books", "ownerId": "contoso", **overrides}
