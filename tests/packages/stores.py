"""The database aliases a test that touches packages must be allowed to use.

`packages` joins `default` only when it is a database of its own (MONGODB_URI or
PACKAGES_DATABASE_URL): otherwise it mirrors `default`, and a second transaction on the same
SQLite file would lock it.
"""

from django.conf import settings

PACKAGES_DATABASES = sorted({"default", settings.PACKAGES_DB_ALIAS})
