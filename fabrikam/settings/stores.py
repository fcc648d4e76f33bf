"""The stores: the SQL database (drones, admin, accounts), the packages database (its own SQL
database, a MongoDB API, or the default one) and Redis (deliveries, idempotency keys, saga state,
throttle counters)."""

from __future__ import annotations

from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fabrikam.runtime import embedded_redis
from fabrikam.settings import env
from fabrikam.settings.runtime import DATA_DIR, FABRIKAM_ROLE

# --- SQL database (drones, admin users) and the packages alias ---
DATABASE_URL = env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
# A request or a worker's task reuses its thread's connection for this long (0: a new one each
# time); a reused one is checked first, so a connection the server dropped is replaced, not fatal.
DATABASE_CONN_MAX_AGE = env.number("DATABASE_CONN_MAX_AGE", 60.0)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with writers taking turns on a lock file (fabrikam/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "fabrikam.sqlite"
    # Several processes share the file locally: wait for a lock instead of failing at once.
    # WAL: readers do not wait for the writer, and a commit appends to the log with no fsync of
    # its own (synchronous=NORMAL: an OS crash may lose the last commits, never corrupt the file).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)

MONGODB_URI = env.string("MONGODB_URI")
PACKAGES_DATABASE_URL = env.string("PACKAGES_DATABASE_URL")
if MONGODB_URI and PACKAGES_DATABASE_URL:
    raise ImproperlyConfigured(
        "MONGODB_URI and PACKAGES_DATABASE_URL both name a packages database: unset one of them"
    )
# Without a dedicated packages database the `packages` alias is the default DB, and the router
# sends the packages app to `default` itself (one connection, one transaction in tests).
PACKAGES_SHARES_DEFAULT = not (MONGODB_URI or PACKAGES_DATABASE_URL)
PACKAGES_DB_ALIAS = "default" if PACKAGES_SHARES_DEFAULT else "packages"
if MONGODB_URI:
    # django-mongodb-backend hands HOST (the whole connection string, with its TLS, auth and
    # retryWrites options) to MongoClient. The database name is set here rather than parsed from
    # the URI, which for mongodb+srv:// would need DNS at import time.
    MONGODB_DATABASE = env.string(
        "MONGODB_DATABASE", urlsplit(MONGODB_URI).path.strip("/") or "fabrikam"
    )
    DATABASES["packages"] = {
        "ENGINE": "django_mongodb_backend",
        "HOST": MONGODB_URI,
        "NAME": MONGODB_DATABASE,
        "OPTIONS": {
            # A MongoDB that is down fails a request after this long, not pymongo's 30 s.
            "serverSelectionTimeoutMS": int(env.number("MONGODB_TIMEOUT", 5.0) * 1000),
            "appname": f"fabrikam-{FABRIKAM_ROLE}",
        },
    }
elif PACKAGES_SHARES_DEFAULT:
    DATABASES["packages"] = {**DATABASES["default"]}
else:
    DATABASES["packages"] = dj_database_url.parse(
        PACKAGES_DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True
    )
DATABASE_ROUTERS = ["fabrikam.apps.packages.routers.PackagesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis (deliveries, idempotency keys, saga state) ---
REDIS_URL = env.string("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = embedded_redis.url_for(DATA_DIR)
REDIS_KEY_PREFIX = env.string("REDIS_KEY_PREFIX", "fabrikam")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": env.number("REDIS_CONNECT_TIMEOUT", 2.0),
            "SOCKET_TIMEOUT": env.number("REDIS_TIMEOUT", 5.0),
        },
    }
}
