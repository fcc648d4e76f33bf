"""pytest (pyproject.toml) loads these; tests/support/environment.py first points them at a
throwaway data directory and an embedded Redis, and turns DEBUG on. The processes a test starts
inherit DJANGO_SETTINGS_MODULE, so they run these too."""

from fabrikam.settings.base import *  # noqa: F403
from fabrikam.settings.base import DATA_DIR, DATABASES, PACKAGES_SHARES_DEFAULT

if PACKAGES_SHARES_DEFAULT:
    DATABASES["packages"]["TEST"] = {"MIRROR": "default"}
if DATABASES["default"]["ENGINE"] == "fabrikam.sqlite":
    # Tests on SQLite use a file: Django's default in-memory test database is shared-cache, whose
    # table locks ignore the busy timeout, so concurrent assignment tests would fail spuriously.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
