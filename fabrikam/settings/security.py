"""Security (issue 10): the secret key, who may call what, throttles, browser hardening.
See SECURITY.md. What DEBUG relaxes here is all that keeps a checkout from needing secrets."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fabrikam.settings import env
from fabrikam.settings.runtime import DEBUG

SECRET_KEY = env.string("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: export SECRET_KEY=<a long random string>, "
            "or DEBUG=true for local development"
        )
    SECRET_KEY = "insecure-local-development-key-only-used-with-DEBUG"

ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

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
# Hops of trusted proxies (the ingress) in X-Forwarded-For; 0 trusts none (REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0)

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
# HTTPS is enforced where TLS ends, at the ingress (it redirects HTTP). The pods also answer
# in-cluster plain-HTTP calls between services, which an SSL redirect here would break.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
