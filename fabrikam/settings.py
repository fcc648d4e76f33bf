"""Settings for every role, read once from the environment. See README "Configuration"."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fabrikam import broker, embedded_redis, env, logs, roles, telemetry

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.string("FABRIKAM_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DEBUG", False)
SECRET_KEY = env.string("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: export SECRET_KEY=<a long random string>, "
            "or DEBUG=true for local development"
        )
    SECRET_KEY = "insecure-local-development-key-only-used-with-DEBUG"

ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

FABRIKAM_ROLE = env.string("FABRIKAM_ROLE", roles.ALL)
if FABRIKAM_ROLE != roles.ALL:
    roles.get(FABRIKAM_ROLE)  # fails fast, naming the valid roles
FABRIKAM_VERSION = env.string("FABRIKAM_VERSION", "0.1.0")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fabrikam.apps.common",
    "fabrikam.apps.ingestion",
    "fabrikam.apps.workflow",
    "fabrikam.apps.deliveries",
    "fabrikam.apps.packages",
    "fabrikam.apps.dronescheduler",
]

MIDDLEWARE = [
    "fabrikam.apps.common.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fabrikam.problems.ApiNotFoundMiddleware",
    "fabrikam.case_insensitive_paths.CaseInsensitivePathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fabrikam.urls"
WSGI_APPLICATION = "fabrikam.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- SQL database (drones, admin users) and the packages alias ---
DATABASE_URL = env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the file locally: wait for a lock instead of failing at once.
    # WAL: readers do not wait for the writer, and a commit appends to the log with no fsync of
    # its own (synchronous=NORMAL: an OS crash may lose the last commits, never corrupt the file).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
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
    DATABASES["packages"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
else:
    DATABASES["packages"] = dj_database_url.parse(
        PACKAGES_DATABASE_URL, conn_max_age=60, conn_health_checks=True
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


# --- Messaging ---
def _broker_from_redis(url: str) -> str:
    parts = urlsplit(url)
    return f"redis+socket://{parts.path}" if parts.scheme == "unix" else url


CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", _broker_from_redis(REDIS_URL))
CELERY_TASK_DEFAULT_QUEUE = env.string("DELIVERY_REQUESTS_QUEUE", "deliveryrequests")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.integer("WORKFLOW_PREFETCH", 1)
CELERY_WORKER_CONCURRENCY = env.integer("WORKFLOW_CONCURRENCY", 2)
# prefork for a saga that computes (in process, role all); threads for one that mostly waits on
# HTTP calls (the workflow role), where a higher WORKFLOW_CONCURRENCY costs little memory.
CELERY_WORKER_POOL = env.string("WORKFLOW_POOL", "prefork")
if CELERY_WORKER_POOL not in ("prefork", "threads", "solo"):
    raise ImproperlyConfigured(
        f"WORKFLOW_POOL={CELERY_WORKER_POOL!r}: choose prefork, threads or solo"
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# No remote control: nothing here uses it, workers of one host would clash on its queue (same
# node name), and Service Bus has no fanout exchange for it.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_CONSUMER = "fabrikam.apps.workflow.consumer:DeadLetteringConsumer"


# --- Workflow saga (issue 4) ---
# These must agree with each other and with the queue's lock duration (Service Bus: at most 5 min):
# one attempt's worst case = 3 steps x HTTP_RETRY_ATTEMPTS x (HTTP_CLIENT_TIMEOUT + backoff)
# + compensation, which the task time limit bounds; a retry is re-scheduled with a countdown of at
# most WORKFLOW_RETRY_MAX_DELAY, and the message is reserved meanwhile, so time limit + that delay
# must stay under the lock duration. See README "Workflow".
# Transient failures count towards WORKFLOW_MAX_ATTEMPTS; waiting for a free drone does not, it is
# bounded by WORKFLOW_NO_DRONE_DEADLINE_SECONDS alone (README "Which rule ends a retry").
WORKFLOW_MAX_ATTEMPTS = env.integer("WORKFLOW_MAX_ATTEMPTS", 10)
WORKFLOW_RETRY_BASE_DELAY = env.number("WORKFLOW_RETRY_BASE_DELAY", 2.0)
WORKFLOW_RETRY_MAX_DELAY = env.number("WORKFLOW_RETRY_MAX_DELAY", 60.0)
WORKFLOW_NO_DRONE_DEADLINE_SECONDS = env.number("WORKFLOW_NO_DRONE_DEADLINE_SECONDS", 900.0)
WORKFLOW_TASK_TIME_LIMIT = env.integer("WORKFLOW_TASK_TIME_LIMIT", 180)
# A delivery's lock lives this long and its worker renews it every third of it while it works:
# a crashed worker's deliveries are free again within this time (README "Recovery").
WORKFLOW_LOCK_SECONDS = env.number("WORKFLOW_LOCK_SECONDS", 15.0)
CELERY_TASK_TIME_LIMIT = WORKFLOW_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = max(1, WORKFLOW_TASK_TIME_LIMIT - 15)
# Redis broker: a message left unacknowledged this long is handed out again — how a crashed worker's
# messages come back. kombu cannot tell a dead worker from a busy one, so it must outlast the
# longest a live worker holds a message: a retry's countdown, then the attempt. Recovery after a
# crash takes this + BROKER_RESTORE_INTERVAL (RabbitMQ and Service Bus: see README "Recovery").
BROKER_VISIBILITY_TIMEOUT = env.integer(
    "BROKER_VISIBILITY_TIMEOUT", WORKFLOW_TASK_TIME_LIMIT + math.ceil(WORKFLOW_RETRY_MAX_DELAY)
)
BROKER_RESTORE_INTERVAL = env.integer("BROKER_RESTORE_INTERVAL", 10)  # how often to look for them

# --- The other services, reached over HTTP ---
SERVICE_URL_PACKAGE = env.string("SERVICE_URL_PACKAGE", "http://127.0.0.1:8000")
SERVICE_URL_DRONESCHEDULER = env.string("SERVICE_URL_DRONESCHEDULER", "http://127.0.0.1:8000")
SERVICE_URL_DELIVERY = env.string("SERVICE_URL_DELIVERY", "http://127.0.0.1:8000")
# Where this process also serves a service (role `all`), the workflow calls it in process
# (fabrikam/roles.py calls_in_process); false keeps HTTP for every call.
WORKFLOW_IN_PROCESS_CALLS = env.boolean("WORKFLOW_IN_PROCESS_CALLS", True)
HTTP_CLIENT_TIMEOUT = env.number("HTTP_CLIENT_TIMEOUT", 5.0)
HTTP_RETRY_ATTEMPTS = env.integer("HTTP_RETRY_ATTEMPTS", 3)
HTTP_RETRY_BASE_DELAY = env.number("HTTP_RETRY_BASE_DELAY", 0.2)
HTTP_RETRY_MAX_DELAY = env.number("HTTP_RETRY_MAX_DELAY", 2.0)
CIRCUIT_BREAKER_FAILURES = env.integer("CIRCUIT_BREAKER_FAILURES", 5)
CIRCUIT_BREAKER_BREAK_SECONDS = env.number("CIRCUIT_BREAKER_BREAK_SECONDS", 30.0)
BULKHEAD_MAX_CONCURRENT = env.integer("BULKHEAD_MAX_CONCURRENT", 10)
BULKHEAD_WAIT_SECONDS = env.number("BULKHEAD_WAIT_SECONDS", 1.0)

# --- HTTP server ---
HOST = env.string("HOST", "127.0.0.1" if DEBUG else "0.0.0.0")
PORT = env.integer("PORT", 8000)
GUNICORN_WORKERS = env.integer("GUNICORN_WORKERS", 2)
GUNICORN_THREADS = env.integer("GUNICORN_THREADS", 4)
GUNICORN_TIMEOUT = env.integer("GUNICORN_TIMEOUT", 30)
# A connection's first request must have sent all its headers this many seconds after it was
# accepted, or it is closed (fabrikam/gunicorn_worker.py); later ones within gunicorn's keepalive.
GUNICORN_HEADER_TIMEOUT = env.number("GUNICORN_HEADER_TIMEOUT", 10.0)
if GUNICORN_HEADER_TIMEOUT <= 0:
    raise ImproperlyConfigured("GUNICORN_HEADER_TIMEOUT must be greater than 0")

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["fabrikam.parsers.LimitedJSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "fabrikam.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "fabrikam.openapi.ContractAutoSchema",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("MAX_REQUEST_BYTES", 64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Fabrikam Drone Delivery",
    "DESCRIPTION": "Delivery requests, deliveries, packages and the drone fleet.",
    "VERSION": FABRIKAM_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract must be true (issue 16): see fabrikam/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fabrikam.openapi.document_problems",
    ],
    # Swagger UI from the image (drf-spectacular-sidecar), served by whitenoise: no CDN, and the
    # page runs under the same CSP as every other one.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Static files, i18n, logging ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env.string("LOG_LEVEL", "INFO")  # LOGGING: see "Observability" at the end
HEALTH_CHECK_TIMEOUT = env.number("HEALTH_CHECK_TIMEOUT", 2.0)
# The workflow worker and beat answer /healthz/* on this port when set (by `serve --port`).
PROBE_PORT = env.integer("PROBE_PORT", 0)

# --- Drone fleet ---
DRONE_BATTERY_RESERVE = env.number("DRONE_BATTERY_RESERVE", 0.2)  # fraction kept in reserve
FLIGHT_TIME_SCALE = env.number("FLIGHT_TIME_SCALE", 1.0)  # >1 flies faster than real time (demos)

# --- Ingestion ---
IDEMPOTENCY_KEY_TTL_SECONDS = env.integer("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)
BROKER_RETRY_AFTER_SECONDS = env.integer("BROKER_RETRY_AFTER_SECONDS", 5)

# --- Deliveries (issue 5) ---
DELIVERY_CANCELLED_TTL_SECONDS = env.integer("DELIVERY_CANCELLED_TTL_SECONDS", 7 * 24 * 3600)
DELIVERY_TOMBSTONE_TTL_SECONDS = env.integer("DELIVERY_TOMBSTONE_TTL_SECONDS", 90 * 24 * 3600)
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DeliveryStageEnum": "fabrikam.apps.deliveries.stages.DeliveryStage",
        "FlightStageEnum": "fabrikam.apps.deliveries.stages.FLIGHT_STAGE_CHOICES",
        "ConfirmationTypeEnum": "fabrikam.apps.deliveries.stages.ConfirmationType",
    }
)

# --- Drone scheduler (issue 7) ---
FLIGHT_TICK_SECONDS = env.number("FLIGHT_TICK_SECONDS", 2.0)
FLIGHT_QUEUE = env.string("FLIGHT_QUEUE", "flights")
DRONE_FULL_CHARGE_MINUTES = env.number("DRONE_FULL_CHARGE_MINUTES", 60.0)
for _name in ("FLIGHT_TICK_SECONDS", "FLIGHT_TIME_SCALE", "DRONE_FULL_CHARGE_MINUTES"):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be greater than 0")
del _name
if not 0 <= DRONE_BATTERY_RESERVE < 1:
    raise ImproperlyConfigured("DRONE_BATTERY_RESERVE is a fraction: 0 <= it < 1, e.g. 0.2")
# The `scheduler` role is a Celery worker with beat embedded: beat sends a tick to FLIGHT_QUEUE
# and the same process runs it. A tick older than one interval is dropped, not queued up.
CELERY_TASK_ROUTES = {"dronescheduler.advance_flights": {"queue": FLIGHT_QUEUE}}
CELERY_BEAT_SCHEDULE = {
    "advance-flights": {
        "task": "dronescheduler.advance_flights",
        "schedule": FLIGHT_TICK_SECONDS,
        "options": {"queue": FLIGHT_QUEUE, "expires": FLIGHT_TICK_SECONDS},
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests on SQLite use a file: Django's default in-memory test database is shared-cache, whose
    # table locks ignore the busy timeout, so concurrent assignment tests would fail spuriously.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

# --- Broker and the delivery-request queues (issue 3) ---
SERVICE_BUS_CONNECTION_STRING = env.string("SERVICE_BUS_CONNECTION_STRING")
try:
    if SERVICE_BUS_CONNECTION_STRING and not env.string("CELERY_BROKER_URL"):
        CELERY_BROKER_URL = broker.service_bus_url(SERVICE_BUS_CONNECTION_STRING)
    BROKER_KIND = broker.kind(CELERY_BROKER_URL)
except broker.BrokerUrlError as exc:
    raise ImproperlyConfigured(str(exc)) from None
DELIVERY_REQUESTS_QUEUE = CELERY_TASK_DEFAULT_QUEUE
DELIVERY_REQUESTS_DEADLETTER_QUEUE = env.string(
    "DELIVERY_REQUESTS_DEADLETTER_QUEUE", f"{DELIVERY_REQUESTS_QUEUE}-deadletter"
)
BROKER_CONNECT_TIMEOUT = env.number("BROKER_CONNECT_TIMEOUT", 2.0)
BROKER_PUBLISH_TIMEOUT = env.number("BROKER_PUBLISH_TIMEOUT", 3.0)
BROKER_PUBLISH_POOL_SIZE = env.integer("BROKER_PUBLISH_POOL_SIZE", 10)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_CONNECT_TIMEOUT
CELERY_BROKER_TRANSPORT = broker.transport(CELERY_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = broker.transport_options(
    CELERY_BROKER_URL, BROKER_CONNECT_TIMEOUT, BROKER_PUBLISH_TIMEOUT
)
if BROKER_KIND == broker.REDIS:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": BROKER_RESTORE_INTERVAL,
        "unacked_restore_throttle": 1,
    }
BROKER_PUBLISHER_TRANSPORT_OPTIONS = broker.publisher_transport_options(
    CELERY_BROKER_URL, BROKER_PUBLISH_TIMEOUT
)
CELERY_TASK_QUEUES = [
    broker.queue(name, CELERY_BROKER_URL)
    for name in (DELIVERY_REQUESTS_QUEUE, DELIVERY_REQUESTS_DEADLETTER_QUEUE)
]

# --- Tracking page and its live stream (issue 8) ---
# Streams per gunicorn worker. A stream is served from the worker's event loop and holds a socket
# (a file descriptor), not a thread: see "Slow clients and live tracking" in the README. Under
# another WSGI server a stream holds a thread, and at most GUNICORN_THREADS // 2 are served.
TRACKING_MAX_STREAMS = env.integer("TRACKING_MAX_STREAMS", 1000)
TRACKING_STREAM_MAX_SECONDS = env.number("TRACKING_STREAM_MAX_SECONDS", 300.0)
TRACKING_KEEPALIVE_SECONDS = env.number("TRACKING_KEEPALIVE_SECONDS", 15.0)
TRACKING_RETRY_AFTER_SECONDS = env.integer("TRACKING_RETRY_AFTER_SECONDS", 10)
TRACKING_POLL_SECONDS = env.number("TRACKING_POLL_SECONDS", 5.0)
for _name in (
    "TRACKING_MAX_STREAMS",
    "TRACKING_STREAM_MAX_SECONDS",
    "TRACKING_KEEPALIVE_SECONDS",
    "TRACKING_POLL_SECONDS",
):
    if globals()[_name] <= 0:
        raise ImproperlyConfigured(f"{_name} must be greater than 0")
del _name

# --- Observability (issue 9): logs, traces, metrics. See README "Observability". ---
LOG_FORMAT = env.string("LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in logs.FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or plain")
LOGGING = logs.logging_config(LOG_FORMAT, LOG_LEVEL)
MIDDLEWARE.insert(
    MIDDLEWARE.index("fabrikam.apps.common.middleware.ProbeMiddleware") + 1,
    "fabrikam.apps.common.middleware.RequestLogMiddleware",
)

OTEL_SDK_DISABLED = env.boolean("OTEL_SDK_DISABLED", False)
OTEL_EXPORTER_OTLP_ENDPOINT = env.string("OTEL_EXPORTER_OTLP_ENDPOINT")
APPLICATIONINSIGHTS_CONNECTION_STRING = env.string("APPLICATIONINSIGHTS_CONNECTION_STRING")
_default_exporters = [
    name
    for name, configured in (
        ("otlp", OTEL_EXPORTER_OTLP_ENDPOINT),
        ("azuremonitor", APPLICATIONINSIGHTS_CONNECTION_STRING),
    )
    if configured
] or ["none"]
OTEL_TRACES_EXPORTER = env.strings("OTEL_TRACES_EXPORTER", _default_exporters)
OTEL_METRICS_EXPORTER = env.strings("OTEL_METRICS_EXPORTER", _default_exporters)
for _variable, _names in (
    ("OTEL_TRACES_EXPORTER", OTEL_TRACES_EXPORTER),
    ("OTEL_METRICS_EXPORTER", OTEL_METRICS_EXPORTER),
):
    if unknown := set(_names) - set(telemetry.EXPORTERS):
        raise ImproperlyConfigured(
            f"{_variable}: unknown exporter {', '.join(sorted(unknown))}; "
            f"use any of {', '.join(telemetry.EXPORTERS)}"
        )
    if "azuremonitor" in _names and not APPLICATIONINSIGHTS_CONNECTION_STRING:
        raise ImproperlyConfigured(
            f"{_variable} includes azuremonitor but APPLICATIONINSIGHTS_CONNECTION_STRING is unset"
        )
OTEL_TRACES_SAMPLER_ARG = env.number("OTEL_TRACES_SAMPLER_ARG", 1.0)
if not 0.0 <= OTEL_TRACES_SAMPLER_ARG <= 1.0:
    raise ImproperlyConfigured(
        f"OTEL_TRACES_SAMPLER_ARG={OTEL_TRACES_SAMPLER_ARG}: a fraction of traces, 0 to 1"
    )
# Kubernetes downward API (the chart sets these from fieldRef), as resource attributes.
K8S_POD_NAME = env.string("K8S_POD_NAME")
K8S_POD_UID = env.string("K8S_POD_UID")
K8S_NAMESPACE_NAME = env.string("K8S_NAMESPACE_NAME")
K8S_NODE_NAME = env.string("K8S_NODE_NAME")
# Prometheus multi-process mode: every process of a pod writes its samples here and /metrics adds
# them up. `serve`/`dev` empty it (default: DATA_DIR/metrics/<role>-<port>) and export it to their
# children; prometheus_client reads the variable itself.
PROMETHEUS_MULTIPROC_DIR = env.string("PROMETHEUS_MULTIPROC_DIR")

# --- Security (issue 10): who may call what, throttles, browser hardening. See SECURITY.md. ---
# Bearer JWTs. In Azure: Microsoft Entra ID (AUTH_ENTRA_TENANT_ID, or AUTH_ISSUER + AUTH_JWKS_URL);
# locally: tokens signed with AUTH_SIGNING_KEY (`manage.py issue_token`), validated by the same
# code against the key's own JWKS.
AUTH_ENTRA_TENANT_ID = env.string("AUTH_ENTRA_TENANT_ID")
_entra = f"https://login.microsoftonline.com/{AUTH_ENTRA_TENANT_ID}"
AUTH_ISSUER = env.strings(
    "AUTH_ISSUER", [f"{_entra}/v2.0"] if AUTH_ENTRA_TENANT_ID else ["fabrikam-local"]
)
AUTH_JWKS_URL = env.string(
    "AUTH_JWKS_URL", f"{_entra}/discovery/v2.0/keys" if AUTH_ENTRA_TENANT_ID else ""
)
del _entra
AUTH_AUDIENCE = env.strings("AUTH_AUDIENCE", ["api://fabrikam"])
# PEM private key (RSA) for local tokens; with DEBUG and none given, one is made in DATA_DIR.
AUTH_SIGNING_KEY = env.string("AUTH_SIGNING_KEY")
if not (AUTH_JWKS_URL or AUTH_SIGNING_KEY or DEBUG):
    raise ImproperlyConfigured(
        "No token issuer: set AUTH_ENTRA_TENANT_ID (or AUTH_ISSUER and AUTH_JWKS_URL) for Entra "
        "ID, or AUTH_SIGNING_KEY (a PEM RSA private key) for locally issued tokens"
    )
AUTH_JWKS_CACHE_SECONDS = env.number("AUTH_JWKS_CACHE_SECONDS", 3600.0)
# An unknown key id refetches the JWKS (a rotation), at most this often.
AUTH_JWKS_MIN_REFRESH_SECONDS = env.number("AUTH_JWKS_MIN_REFRESH_SECONDS", 30.0)
AUTH_JWKS_TIMEOUT = env.number("AUTH_JWKS_TIMEOUT", 3.0)
AUTH_CLOCK_SKEW_SECONDS = env.integer("AUTH_CLOCK_SKEW_SECONDS", 60)
AUTH_TOKEN_LIFETIME_SECONDS = env.integer("AUTH_TOKEN_LIFETIME_SECONDS", 3600)
# A disabled API client is refused within this long (each process caches the lookups).
AUTH_CLIENT_CACHE_SECONDS = env.number("AUTH_CLIENT_CACHE_SECONDS", 30.0)
# Service-to-service calls: with Entra, the workload identity's token for this scope (e.g.
# "api://fabrikam/.default"); unset, each process signs its own with AUTH_SIGNING_KEY.
AUTH_SERVICE_TOKEN_SCOPE = env.string("AUTH_SERVICE_TOKEN_SCOPE")
REST_FRAMEWORK |= {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fabrikam.apps.accounts.authentication.BearerTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["fabrikam.apps.accounts.permissions.HasRequiredScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "fabrikam.apps.accounts.throttles.ClientAndIpRateThrottle",
    ],
    # Hops of trusted proxies (the ingress) in X-Forwarded-For; 0 trusts none (REMOTE_ADDR).
    "NUM_PROXIES": env.integer("TRUSTED_PROXY_COUNT", 0),
}
INSTALLED_APPS.insert(INSTALLED_APPS.index("fabrikam.apps.ingestion"), "fabrikam.apps.accounts")
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "fabrikam.admin_site.AdminConfig"
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.AllowAny"]

# Throttles ("<count>/<second|minute|hour|day>"), counted in Redis across every process.
THROTTLE_CLIENT_RATE = env.string("THROTTLE_CLIENT_RATE", "600/minute")
THROTTLE_IP_RATE = env.string("THROTTLE_IP_RATE", "1200/minute")
ADMIN_LOGIN_MAX_FAILURES = env.integer("ADMIN_LOGIN_MAX_FAILURES", 5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env.integer("ADMIN_LOGIN_LOCKOUT_SECONDS", 900)

# Browsers: HTTPS-only cookies, HSTS (sent on HTTPS requests only), no framing, no sniffing.
# TLS ends at the ingress, which sets X-Forwarded-Proto; trust it only behind that proxy.
if env.boolean("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS", [])
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = env.string(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "fabrikam.apps.common.middleware.ContentSecurityPolicyMiddleware",
)
# HTTPS is enforced where TLS ends, at the ingress (it redirects HTTP). The pods also answer
# in-cluster plain-HTTP calls between services, which an SSL redirect here would break.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
