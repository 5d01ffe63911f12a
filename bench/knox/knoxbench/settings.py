"""Settings for the knox peer: production-like (DEBUG off), API-only, SQLite.

The database path comes from KNOX_BENCH_DB so that each benchmark run gets a fresh
database in its own temporary directory.
"""

import os

SECRET_KEY = "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "knox",
]

# API-only: no sessions, CSRF or messages, which a token API does not use. DRF
# authenticates on request.user itself, without Django's AuthenticationMiddleware.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "knoxbench.urls"
WSGI_APPLICATION = "knoxbench.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("KNOX_BENCH_DB", ""),
        # Persistent connections, as a tuned deployment would run: Django's default
        # (0) reconnects on every request. One sync worker is one thread, so safe.
        "CONN_MAX_AGE": None,
        # The same journal settings as tokend's SQLite engine, so neither side gets
        # a cheaper disk mode than the other.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    }
}

USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API renderer would be chosen by a browser, not wrk,
    # but keeping it off matches an API deployment.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# knox defaults otherwise (10 h TTL, no auto-refresh, SHA-512 digests); only the
# header word changes so that wrk sends the very same header to tokend and knox.
REST_KNOX = {"AUTH_HEADER_PREFIX": "Bearer"}

# Errors to stderr only; gunicorn writes the access log (see bench/knox_peer.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
