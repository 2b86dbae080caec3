"""Django settings. Everything a deployment changes comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("BASTION_DATA_DIR", BASE_DIR.parent.parent / "var"))
# The SQLite file and uploads live here; a fresh clone or a new BASTION_DATA_DIR has none yet.
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("BASTION_SECRET_KEY", "dev-only-not-secret-change-me")
DEBUG = os.environ.get("BASTION_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("BASTION_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "django_tasks",
    "django_tasks_db",
    "bastion.core",
    "bastion.geo",
    "bastion.people",
    "bastion.accounts",
    "bastion.ledgers",
    "bastion.screening",
    "bastion.reports",
    "bastion.testing",
    "bastion.requests",
    "bastion.incidents",
    "bastion.notices",
    "bastion.orders",
    "bastion.supervision",
    "bastion.checkpoints",
    "bastion.quarantine",
    "bastion.web",
    "bastion.demo",
]

MIDDLEWARE = [
    # First: a database outage anywhere below answers 503 "retry", not 500 (core.outage).
    "bastion.core.outage.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bastion.urls"
WSGI_APPLICATION = "bastion.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PATH = DATA_DIR / "bastion.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}", conn_max_age=60
    )
}
# A kept connection is checked at the first query of each request (one cheap round trip
# after the previous request), so after a database restart the next request reconnects
# instead of failing on a connection the server closed.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
    # so concurrent writers queue instead of failing half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif os.environ.get("BASTION_PG_PREPARED", "1") == "1":
    # Parameters bound by the server let psycopg prepare a statement run more than five
    # times on a connection: the hot paths (a scan, a token login) are parsed and planned
    # once per connection instead of at every request. Behind a pooler in transaction mode
    # (PgBouncer without prepared-statement support) set BASTION_PG_PREPARED=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A date input's value is ISO in every language (Django's Chinese input format is 1982/10/25,
# which <input type="date"> shows as empty).
FORMAT_MODULE_PATH = ["bastion.core.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served from the apps by whitenoise; collectstatic only where a deployment
# sets a directory for a front web server.
STATIC_ROOT = os.environ.get("BASTION_STATIC_ROOT") or None
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Figures computed once and read by many pages (`core.figcache`): in a table of the database,
# so every process of `bastion serve` (and every server over the same database) shares them
# and an invalidation reaches all of them; no extra service to run. The table is made by
# web's migration 0001.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "figures": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "bastion_figures_cache",
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    },
}
if os.environ.get("BASTION_FIGURES_CACHE") == "off":  # `bastion bench commanders --uncached`
    CACHES["figures"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}

# Imports and exports run as background tasks; the worker is started by `bastion serve`.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("BASTION_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}

# Roles that may see full ID and phone numbers (each reveal is logged).
BASTION_REVEAL_ROLES = (
    "city_admin",
    "district_commander",
    "street_commander",
    "community_staff",
    "grid_chief",
)
# One import is one write transaction; on SQLite it holds the single write lock meanwhile,
# so its ceiling stays well under what other writers wait for (timeout above).
BASTION_IMPORT_MAX_ROWS = (
    50_000 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 200_000
)
# The outbreak response: an area is lifted after this many days without a new positive and
# this many testing rounds since, all negative (incidents.response.queries.lift_check).
BASTION_LIFT_QUIET_DAYS = 14
BASTION_LIFT_NEGATIVE_ROUNDS = 2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BASTION_LOG_LEVEL", "WARNING")},
}
