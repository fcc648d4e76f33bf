"""No tables: deliveries live in Redis (repository.py).

`Delivery` is an unmanaged model with no table behind it. It exists only so that Django admin lists
"Deliveries" on its index and grants the usual view/change permissions; admin.py serves its pages
from the repository through selectors and services.
"""

from django.db import models


class Delivery(models.Model):
    id = models.CharField(primary_key=True, max_length=128)

    class Meta:
        managed = False
        default_permissions = ("view", "change")
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return self.id
