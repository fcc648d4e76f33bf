"""Package ids are unique per owner (issue 16): the key becomes `owner/packageId`.

Existing packages keep their data; each is re-keyed from `packageId` to `owner/packageId`. On SQL
that is one UPDATE; MongoDB cannot change a document's `_id`, so there each document is copied
under its new key and the old one deleted (safe to re-run if interrupted).
"""

from typing import Any

from django.db import migrations, models

import fabrikam.apps.packages.models

BATCH = 1000


def _collection(schema_editor: Any, apps: Any) -> Any:
    model = apps.get_model("packages", "Package")
    return schema_editor.connection.database[model._meta.db_table]


def rekey(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mongodb":
        collection = _collection(schema_editor, apps)
        not_rekeyed = {"package_id": {"$in": ["", None]}}  # None also matches a missing field
        while batch := list(collection.find(not_rekeyed).limit(BATCH)):
            for document in batch:
                old_key = document["_id"]
                new_key = f"{document['owner_id']}/{old_key}"
                new = {**document, "_id": new_key, "package_id": old_key}
                collection.replace_one({"_id": new_key}, new, upsert=True)
                collection.delete_one({"_id": old_key})
        return
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    package = apps.get_model("packages", "Package")
    package.objects.using(schema_editor.connection.alias).filter(package_id="").update(
        package_id=F("key"), key=Concat(F("owner_id"), Value("/"), F("key"))
    )


def unkey(apps: Any, schema_editor: Any) -> None:
    """Back to one namespace: refused while two owners share a package id."""
    if schema_editor.connection.vendor == "mongodb":
        collection = _collection(schema_editor, apps)
        if len(collection.distinct("package_id")) != collection.count_documents({}):
            raise RuntimeError("Several owners share package ids: cannot migrate back.")
        for document in list(collection.find({})):
            old_key = document["_id"]
            new_key = document["package_id"]
            if old_key == new_key:
                continue
            collection.replace_one({"_id": new_key}, {**document, "_id": new_key}, upsert=True)
            collection.delete_one({"_id": old_key})
        return
    from django.db.models import Count, F

    packages = apps.get_model("packages", "Package").objects.using(schema_editor.connection.alias)
    shared = packages.values("package_id").annotate(owners=Count("key")).filter(owners__gt=1)
    if shared_ids := [row["package_id"] for row in shared[:10]]:
        raise RuntimeError(
            f"Several owners share the package ids {', '.join(shared_ids)}: cannot migrate back."
        )
    packages.update(key=F("package_id"))


class AddFieldExceptOnMongoDB(migrations.AddField):
    """A document needs no new column: `rekey` writes the field into every one. (The MongoDB
    backend would set the default with a pipeline update, which FerretDB does not implement.)"""

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if schema_editor.connection.vendor != "mongodb":
            super().database_forwards(app_label, schema_editor, *states)


class Migration(migrations.Migration):
    dependencies = [("packages", "0001_initial")]

    operations = [
        migrations.RenameField("package", "id", "key"),
        migrations.AlterField(
            model_name="package",
            name="key",
            field=models.CharField(
                db_column="_id",
                editable=False,
                max_length=257,
                primary_key=True,
                serialize=False,
            ),
        ),
        AddFieldExceptOnMongoDB(
            model_name="package",
            name="package_id",
            field=models.CharField(
                default="",
                max_length=128,
                validators=[fabrikam.apps.packages.models.PACKAGE_ID_RULE],
                verbose_name="package id",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(rekey, unkey, elidable=False),
        migrations.AddIndex(
            model_name="package",
            index=models.Index(fields=["package_id", "owner_id"], name="package_id_owner"),
        ),
    ]
