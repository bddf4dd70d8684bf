"""Settings, configured from the environment.

Without any variables set this is production: DEBUG off, and SECRET_KEY and
ALLOWED_HOSTS required. `make run` sets DEBUG=1 for the embedded default: SQLite,
the in-memory channel layer and demo data. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY and ALLOWED_HOSTS (README, "Configuration").
"""

import os
import re
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(int(default))).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# scheme://host[:port] as a CSP source; a wildcard only as the first label of a host
# with at least two more (https://*.cdn.example.com, never https://*.com or *).
CSP_ORIGIN = re.compile(r"(https?)://(\*\.(?=[^.:]+\.[^.:]+))?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?")


def env_csp_origins(name: str, *, allow_http: bool) -> list[str]:
    """Origins to add to a CSP directive, refused at start-up when one is anything
    else (a path, a quote or `;` that would change the policy, a broad wildcard), or
    plain http outside DEBUG."""
    origins = [item.lower().removesuffix("/") for item in env_list(name)]
    for origin in origins:
        match = CSP_ORIGIN.fullmatch(origin)
        if not match or (match[1] == "http" and not allow_http):
            wanted = "http(s)" if allow_http else "https"
            raise RuntimeError(f"{name}: {origin!r} is not a {wanted}://host[:port] origin")
    return origins


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
# Origins of the shops that embed the widget (scheme://host[:port]).
WIDGET_ALLOWED_ORIGINS = env_list(
    "WIDGET_ALLOWED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000" if DEBUG else ""
)
# h2: sockets end with their session or right, and open only from exact origins.
# Origins (scheme://host[:port]) besides the page's own Host whose pages may open the
# console, expert and staff sockets; compared exactly, wildcards never match.
SOCKET_ALLOWED_ORIGINS = env_list(
    "SOCKET_ALLOWED_ORIGINS", os.environ.get("CSRF_TRUSTED_ORIGINS", "")
)
# How long a signed-in socket trusts its last check of session and right (seconds).
SOCKET_AUTH_RECHECK_SECONDS = float(os.environ.get("SOCKET_AUTH_RECHECK_SECONDS", "1"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "django_tasks",
    "django_tasks_db",
    "community",
    "chat",
    "points",
    "rewards",
    "catalog",
    "sales",
]

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
]
CSP_EXEMPT_PATHS = {"/shop/"}

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.context_processors.brand",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Consumers reach the database from one worker thread per process: opening a
        # connection per call took much of its time (docs/performance.md, "Persistent
        # database connections").
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # Not before every call: for a socket each frame is a "request", and the check
        # (a SELECT 1) showed in the hot path's profile (docs/performance.md, "No health
        # check per call"). A connection that died while idle fails one call with
        # `unavailable` and is replaced; the widget retries it.
        conn_health_checks=False,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: one PUBLISH per broadcast instead of the list layer's four round
            # trips and a blocking pop per delivery, which could not keep up even with
            # the bare relay (docs/performance.md, "Pub/sub channel layer"). It keeps
            # nothing for a process that is reconnecting; sockets catch up from the
            # database on gaps and on pings.
            "BACKEND": "realtime.channel_layer.ChannelLayer",
            # redis-py 8 defaults to a 5 s socket timeout; idle sockets must survive.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                # Several deployments (or test runs) may share one Redis.
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "asgi"),
            },
        }
    }
    # Limits and anything else several processes must agree on.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "brandexperts"),
            "OPTIONS": {"socket_timeout": 3, "socket_connect_timeout": 3},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # One process in `make run`: its own memory is shared enough.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Proxies whose X-Forwarded-For is believed (CIDRs, comma-separated). Empty: the
# socket peer is the client. A unix-socket peer counts as trusted when this is set.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
if TRUSTED_PROXIES:
    # Only a proxy we trust may say the request came over HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
RATE_LIMIT_CACHE = "default"
# "count/seconds" per limit name; see docs/security.md for what each one guards.
RATE_LIMITS = {
    name: os.environ.get(f"RATE_LIMIT_{name.upper().replace('.', '_')}", default)
    for name, default in {
        # widget, per client IP (per /64 for IPv6)
        "widget.socket": "60/60",
        "widget.visitor": "10/3600",
        "widget.chat": "10/3600",
        "widget.offline": "5/3600",
        "widget.transcript": "5/3600",
        # new widget references counted as opening the chat (sales.services)
        "widget.open": "120/3600",
        "widget.photo": "30/3600",
        # per visitor (the widget's token)
        "visitor.photo": "15/3600",
        # pages, per client IP
        "page.apply": "5/3600",
        # per expert
        "expert.followup": "30/3600",
        "expert.catalog": "120/60",
        "expert.replies": "60/3600",
        "expert.photo": "60/3600",
        # per staff member
        "staff.photo": "60/3600",
        # the shop's order reports, per client IP
        "api.orders": "600/60",
    }.items()
}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# Experts are recruited by staff, never by open sign-up.
ACCOUNT_ADAPTER = "community.adapters.InviteOnlyAccountAdapter"
# In the shared cache (Redis when REDIS_URL is set), keyed on the client IP from
# community.adapters. Wrong passwords lock the password out for a while, but the
# owner still gets in with a code by email or a password reset.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

# The public address of this site, for links in mails sent from sockets (no request
# there). Empty: the socket's Host header, when it is one of ALLOWED_HOSTS.
SITE_URL = os.environ.get("SITE_URL", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Brand experts <experts@example.com>")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One rule for times: the brand's zone on every page and socket of staff and experts
# (the widget shows customers their own). Stored times stay UTC.
BRAND_TIME_ZONE = os.environ.get("BRAND_TIME_ZONE", "Europe/Amsterdam")
TIME_ZONE = BRAND_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "frontend"]
STORAGES = {
    # Uploads (product images) go through Django's storage API: local disk unless
    # MEDIA_STORAGE names another backend (e.g. django-storages' S3Storage, configured
    # by its own AWS_* variables).
    "default": {
        "BACKEND": os.environ.get("MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage")
    },
    # Photos in chats (chat/photos.py): never under MEDIA_URL, which a proxy serves to
    # anyone; only chat.views.photo hands them out, to holders of a signed link.
    # PHOTO_STORAGE may name another backend (e.g. a private S3 bucket).
    "photos": {"BACKEND": os.environ["PHOTO_STORAGE"]}
    if os.environ.get("PHOTO_STORAGE")
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("PHOTO_ROOT", BASE_DIR / "private-media")},
    },
    # Hashed names in production, so browsers never keep a stale script after a
    # deploy (needs `collectstatic`); plain names while developing.
    "staticfiles": {
        "BACKEND": "config.static_storage.MinifiedStaticFilesStorage"
        if DEBUG
        else "config.static_storage.MinifiedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Without a proxy in front to serve /media/ (deploy/nginx.conf does), Django does.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# The widget is loaded by other sites.
WHITENOISE_ALLOW_ALL_ORIGINS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# HTTPS=0 only for a production-like stack on one machine over plain HTTP (make stack).
if not DEBUG and env_bool("HTTPS", True):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# One line per event, with the request's or socket's id (config/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logs.ContextIdFilter"}},
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(context_id)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# Error reporting: set SENTRY_DSN and install the `sentry` extra.
if SENTRY_DSN := os.environ.get("SENTRY_DSN", ""):
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False)

# Product rules with environment overrides; per-expert caps live in the database.
CHAT_MAX_MESSAGE_LENGTH = 4000
CHAT_BRAND_MAX_CONCURRENT = 3
CHAT_DISCONNECT_GRACE_SECONDS = int(os.environ.get("CHAT_DISCONNECT_GRACE_SECONDS", "60"))
# The console pings this often; each ping extends its lease (community.ConsoleLease)
# to CHAT_CONSOLE_LEASE_SECONDS, so a console whose process died stops getting
# chats within that time.
CHAT_HEARTBEAT_SECONDS = float(os.environ.get("CHAT_HEARTBEAT_SECONDS", "5"))
CHAT_CONSOLE_LEASE_SECONDS = int(os.environ.get("CHAT_CONSOLE_LEASE_SECONDS", "12"))
# At most this long between a Daphne's full garbage collections over every object,
# which free the reference cycles closed sockets left among the frozen ones (sooner
# once Python's small objects grew by a quarter or more: realtime/collector.py).
GC_THAW_SECONDS = int(os.environ.get("GC_THAW_SECONDS", "1800"))
CHAT_NEW_CHATS_PER_VISITOR_PER_HOUR = 10
# Chats one network (IPv4 address, IPv6 /64) may have waiting at once.
CHAT_MAX_WAITING_PER_NETWORK = int(os.environ.get("CHAT_MAX_WAITING_PER_NETWORK", "5"))
# A chat whose customer has had no widget open this long leaves the queue
# (waiting) or is shown to the expert as gone (active).
# A chat never routes to an expert whose console is on the network it came from, and
# awards for such chats wait for staff. Off with DEBUG: a demo (`make run`) has the
# shop and the console on one machine. Turn it off where experts and customers
# really share an address (a store's own Wi-Fi behind one NAT).
SAME_NETWORK_CHECKS = env_bool("SAME_NETWORK_CHECKS", not DEBUG)
# Awards that look farmed wait for staff (points.FlaggedAward): five stars for a chat
# shorter than this, or this many ratings of one expert by one customer in a week.
POINTS_QUICK_CHAT_SECONDS = int(os.environ.get("POINTS_QUICK_CHAT_SECONDS", "60"))
POINTS_REPEAT_RATINGS = int(os.environ.get("POINTS_REPEAT_RATINGS", "3"))
# Photos customers and experts attach: refused above this size (before it is read when
# the request says its length) or this many pixels (decompression bombs); stored at
# most CHAT_PHOTO_MAX_SIDE pixels on the long side, re-encoded without metadata.
CHAT_PHOTO_MAX_BYTES = int(float(os.environ.get("CHAT_PHOTO_MAX_MB", "8")) * 1024 * 1024)
CHAT_PHOTO_MAX_PIXELS = int(os.environ.get("CHAT_PHOTO_MAX_PIXELS", "50000000"))
CHAT_PHOTO_MAX_SIDE = 2048
CHAT_PHOTO_THUMBNAIL_SIDE = 480
# How long a photo's signed link works; frames carry fresh links when sent or replayed.
CHAT_PHOTO_URL_MAX_AGE_SECONDS = int(os.environ.get("CHAT_PHOTO_URL_MAX_AGE_SECONDS", "3600"))
# How long the link in a transcript confirmation mail works.
TRANSCRIPT_CONFIRM_MAX_AGE_SECONDS = 2 * 24 * 3600
REDEMPTION_PENDING_DAYS = int(os.environ.get("REDEMPTION_PENDING_DAYS", "14"))

# Background jobs (config/jobs.py): rows in our own database, run by
# `manage.py db_worker`; `manage.py scheduler` enqueues these every so many seconds.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Chat-assisted sales: the shop signs its order reports with this secret (HMAC-SHA256);
# an order within ORDER_ATTRIBUTION_DAYS after a chat counts for that chat.
ORDER_WEBHOOK_SECRET = os.environ.get("ORDER_WEBHOOK_SECRET", "")
ORDER_ATTRIBUTION_DAYS = int(os.environ.get("ORDER_ATTRIBUTION_DAYS", "7"))
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "EUR")
# Points for chat-assisted sales: off (0) unless the brand sets how many per order, so
# that quality, not selling, stays what chats are for. Given once the order's return
# window has passed, for at most POINTS_ASSISTED_SALE_CAP_PER_CHAT orders of one chat.
POINTS_ASSISTED_SALE = int(os.environ.get("POINTS_ASSISTED_SALE", "0"))
POINTS_ASSISTED_SALE_CAP_PER_CHAT = int(os.environ.get("POINTS_ASSISTED_SALE_CAP_PER_CHAT", "1"))
ORDER_RETURN_WINDOW_DAYS = int(os.environ.get("ORDER_RETURN_WINDOW_DAYS", "30"))
# The brand's product feed (a CSV or JSON file, see catalog/services.py), loaded hourly.
CATALOG_FEED = os.environ.get("CATALOG_FEED", "")
# Where the catalog's product images live when not on this site (a brand's CDN):
# added to img-src of the pages that show product cards (config/middleware.py).
CATALOG_IMAGE_ORIGINS = env_csp_origins("CATALOG_IMAGE_ORIGINS", allow_http=DEBUG)
JOB_SCHEDULE = [
    ("chat.jobs.presence_heal", 2),
    ("rewards.jobs.pending_redemptions_expire", 3600),
    ("chat.jobs.unconfirmed_transcripts_prune", 3600),
    ("config.jobs.finished_jobs_prune", 3600),
    ("community.jobs.waiting_alerts_send", 60),
    *([("catalog.jobs.catalog_feed_load", 3600)] if CATALOG_FEED else []),
    *([("points.jobs.assisted_sales_award", 3600)] if POINTS_ASSISTED_SALE else []),
]
JOB_RESULTS_KEEP_SECONDS = 24 * 3600
# "Shoppers are waiting" mails: once the oldest waiting chat has waited this long and
# fewer experts are on shift (console open) than the shifts running now need, experts
# who asked for it are mailed, each at most once per CHAT_WAITING_ALERT_EVERY_SECONDS.
CHAT_WAITING_ALERT_SECONDS = int(os.environ.get("CHAT_WAITING_ALERT_SECONDS", "120"))
CHAT_WAITING_ALERT_EVERY_SECONDS = 3600
CHAT_ABANDON_AFTER_SECONDS = int(os.environ.get("CHAT_ABANDON_AFTER_SECONDS", "120"))
BRAND_NAME = os.environ.get("BRAND_NAME", "Northwind Audio")
# Whom experts write to about their account (a suspension); empty: the staff member
# who suspended them.
STAFF_CONTACT_EMAIL = os.environ.get("STAFF_CONTACT_EMAIL", "")

# h3: visitor tokens (the widget's only credential) stop working this many days after
# they were issued; every visit issues a fresh one, so only idle visitors lose theirs.
VISITOR_TOKEN_MAX_AGE_DAYS = int(os.environ.get("VISITOR_TOKEN_MAX_AGE_DAYS", "90"))
