"""What every settings module shares: the Django project (apps, middleware, URLs, templates, the
REST API, static files) and its HTTP server, plus each integration's and context's own module.
local, production and test build on this; see fabrikam/settings/__init__.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam.settings import env
from fabrikam.settings.deliveries import *  # noqa: F403
from fabrikam.settings.dronescheduler import *  # noqa: F403
from fabrikam.settings.ingestion import *  # noqa: F403
from fabrikam.settings.messaging import *  # noqa: F403
from fabrikam.settings.observability import *  # noqa: F403
from fabrikam.settings.runtime import *  # noqa: F403
from fabrikam.settings.runtime import BASE_DIR, DEBUG, FABRIKAM_VERSION
from fabrikam.settings.security import *  # noqa: F403
from fabrikam.settings.security import TRUSTED_PROXY_COUNT
from fabrikam.settings.stores import *  # noqa: F403
from fabrikam.settings.workflow import *  # noqa: F403

INSTALLED_APPS = [
    "fabrikam.web.admin_site.AdminConfig",  # django.contrib.admin with the hardened admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fabrikam.apps.common",
    "fabrikam.apps.accounts",
    "fabrikam.apps.ingestion",
    "fabrikam.apps.workflow",
    "fabrikam.apps.deliveries",
    "fabrikam.apps.packages",
    "fabrikam.apps.dronescheduler",
]

MIDDLEWARE = [
    "fabrikam.apps.common.middleware.ProbeMiddleware",
    "fabrikam.apps.common.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "fabrikam.apps.common.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fabrikam.web.problems.ApiNotFoundMiddleware",
    "fabrikam.web.case_insensitive_paths.CaseInsensitivePathMiddleware",
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

# --- HTTP server ---
HOST = env.string("HOST", "127.0.0.1" if DEBUG else "0.0.0.0")
PORT = env.integer("PORT", 8000)
GUNICORN_WORKERS = env.integer("GUNICORN_WORKERS", 2)
GUNICORN_THREADS = env.integer("GUNICORN_THREADS", 4)
GUNICORN_TIMEOUT = env.integer("GUNICORN_TIMEOUT", 30)
# A connection's first request must have sent all its headers this many seconds after it was
# accepted, or it is closed (fabrikam/server/gunicorn_worker.py); later ones within gunicorn's
# keepalive.
GUNICORN_HEADER_TIMEOUT = env.number("GUNICORN_HEADER_TIMEOUT", 10.0)
if GUNICORN_HEADER_TIMEOUT <= 0:
    raise ImproperlyConfigured("GUNICORN_HEADER_TIMEOUT must be greater than 0")

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["fabrikam.web.parsers.LimitedJSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "fabrikam.web.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "fabrikam.web.openapi.ContractAutoSchema",
    # Who may call what (security.py, SECURITY.md).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fabrikam.apps.accounts.authentication.BearerTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["fabrikam.apps.accounts.permissions.HasRequiredScope"],
    "DEFAULT_THROTTLE_CLASSES": [
        "fabrikam.apps.accounts.throttles.ClientAndIpRateThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer("MAX_REQUEST_BYTES", 64 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Fabrikam Drone Delivery",
    "DESCRIPTION": "Delivery requests, deliveries, packages and the drone fleet.",
    "VERSION": FABRIKAM_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract must be true (issue 16): see fabrikam/web/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fabrikam.web.openapi.document_problems",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStageEnum": "fabrikam.apps.deliveries.stages.DeliveryStage",
        "FlightStageEnum": "fabrikam.apps.deliveries.stages.FLIGHT_STAGE_CHOICES",
        "ConfirmationTypeEnum": "fabrikam.contract.enums.ConfirmationType",
    },
    # Swagger UI from the image (drf-spectacular-sidecar), served by whitenoise: no CDN, and the
    # page runs under the same CSP as every other one.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Static files, i18n ---
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
