from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from fabrikam.contract.ids import ID_MAX_LENGTH, ID_VALIDATOR
from fabrikam.contract.packages import DeliveryState, PackageSize

PACKAGE_ID_MAX_LENGTH = ID_MAX_LENGTH
OWNER_ID_MAX_LENGTH = ID_MAX_LENGTH
PACKAGE_ID_RULE = ID_VALIDATOR  # migration 0002 names it at this path


def storage_key(owner_id: str, package_id: str) -> str:
    """The store's key of `owner_id`'s package `package_id`: `owner/packageId`. A package id has
    no '/', so a key names exactly one (owner, package id) pair."""
    return f"{owner_id}/{package_id}"


class Package(models.Model):
    """A package; stored on the `packages` database alias (MongoDB API, or the SQL default DB).

    Package ids are chosen by the businesses, so they are unique per owner only: two businesses'
    packages with the same id are two packages (issue 16), and nothing one business sends can
    reach another's.
    """

    # `_id` so that on MongoDB the key is the document's own (the built-in unique index serves
    # every lookup by owner and package id); SQL databases take the name as it is. Derived from
    # the owner and the package id on creation, never set by hand.
    key = models.CharField(
        primary_key=True,
        max_length=OWNER_ID_MAX_LENGTH + 1 + PACKAGE_ID_MAX_LENGTH,
        db_column="_id",
        editable=False,
    )
    package_id = models.CharField(
        "package id", max_length=PACKAGE_ID_MAX_LENGTH, validators=[PACKAGE_ID_RULE]
    )
    size = models.CharField(max_length=8, choices=PackageSize.choices)
    weight = models.FloatField(help_text="kilograms")
    tag = models.CharField(max_length=100, blank=True, default="")
    owner_id = models.CharField(max_length=OWNER_ID_MAX_LENGTH, db_index=False)
    delivery_state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.REGISTERED
    )
    # Registration time, which the owner summary groups by; a default rather than auto_now_add so
    # that imports and tests can give the real one.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Serves the owner summary: equality on the owner, a range on the registration time.
            models.Index(fields=["owner_id", "created_at"], name="package_owner_created"),
            # Serves admin and internal lookups by package id alone. Not a unique constraint:
            # the key already makes the pair unique, and the MongoDB backend builds unique
            # indexes with a partial filter, which FerretDB does not implement.
            models.Index(fields=["package_id", "owner_id"], name="package_id_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.package_id} of {self.owner_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        key = storage_key(self.owner_id, self.package_id)
        if self._state.adding:
            self.key = key
            kwargs.setdefault("force_insert", True)  # never replace a package by adding one
        elif key != self.key:
            raise ValueError(
                f"Package {self.key}: its owner and id cannot change; register a new package."
            )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if (
            self._state.adding
            and Package.objects.filter(key=storage_key(self.owner_id, self.package_id)).exists()
        ):
            raise ValidationError({"package_id": "This owner already has a package with this id."})
