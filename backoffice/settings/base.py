"""Settings shared by every environment.

Everything that differs between a laptop and production is read from the
environment (see ``.env.example``). The defaults are the embedded ones that
``make run`` relies on: SQLite, local media, Celery tasks run eagerly.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A .env file is optional; the process environment always wins.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# "development" or "production": shown as the label in the admin header.
ENVIRONMENT = env.str("DJANGO_ENV", default="development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")

SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="development-only-insecure-key-never-use-in-production-0123456789",
)
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Unfold apps come before django.contrib.admin; its contribs before the
    # packages they style (see UNFOLD-NOTES in the project docs).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.inlines",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "backoffice.apps.DorixonaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "simple_history",
    "import_export",
    "django_celery_beat",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "corsheaders",
    # Project
    "backoffice",
    "accounts",
    "catalog",
    "tasks",
    "orders",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy header on every response (policy under "Security headers" below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, except that the APIs take their language from Accept-Language only.
    "backoffice.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"
ASGI_APPLICATION = "backoffice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backoffice" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections (gunicorn's sync workers, one request at a time each): a till's request would
# otherwise open a connection and meet a cold backend for every sale. Checked before reuse, so a restarted
# database costs one failed check, not a failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Trigram search of Cyrillic text needs a UTF-8 ctype: the test database is
    # created from template0 with one (see backoffice/db/creation.py).
    DATABASES["default"]["ENGINE"] = "backoffice.db"
    DATABASES["default"].setdefault("TEST", {})
    DATABASES["default"]["TEST"].update({"TEMPLATE": "template0", "CHARSET": "UTF8"})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the demo server and an eager task write without "database is locked".
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis when configured) ------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down costs speed, not requests: misses instead of errors (backoffice/cache.py).
            "BACKEND": "backoffice.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="dorixona"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = reverse_lazy("admin:login")
LOGIN_REDIRECT_URL = reverse_lazy("admin:index")

# Staff second factor (django-otp). The issuer is what authenticator apps show.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Dorixona")
OTP_TOTP_THROTTLE_FACTOR = 1
# The device pages never show a key or its QR code: a secret read there is a copy of that
# member's second factor. Members enrol on their own page; an administrator only resets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
BACKUP_CODES_COUNT = 10

# Brute-force lockout (django-axes). Keyed on the phone and the IP together:
# one attacker cannot lock every pharmacist out, and one phone is not
# guessable from many IPs either once the per-user limit below is hit.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
# The client's address comes from backoffice.client_ip, as for the API throttles.
AXES_CLIENT_IP_CALLABLE = "backoffice.client_ip.client_ip"

# --- Client address behind proxies (backoffice/client_ip.py) -------------------
# How many reverse proxies of ours stand in front of the app, each appending to
# X-Forwarded-For. 0: the header is ignored and REMOTE_ADDR is the client. Never
# more than there really are: the client writes whatever it likes to the left.
# (AXES_PROXY_COUNT is the older name of this setting.)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=env.int("AXES_PROXY_COUNT", default=0))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "uz"
LANGUAGES = [
    ("uz", _("Uzbek")),
    ("ru", _("Russian")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers: one format for all three languages (backoffice/formats/).
FORMAT_MODULE_PATH = ["backoffice.formats"]
TIME_ZONE = "Asia/Tashkent"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Import uploads and exports: outside MEDIA_ROOT, so no URL ever serves them.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")))
# How long a pre-signed link to a private file (S3) stays valid.
PRIVATE_URL_EXPIRE_SECONDS = env.int("PRIVATE_URL_EXPIRE_SECONDS", default=300)
# S3-compatible object storage (AWS S3, MinIO, Yandex Object Storage) when a
# bucket is named; local disk otherwise. See backoffice/storage_config.py.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    from backoffice.storage_config import s3_storages  # noqa: E402

    STORAGES = s3_storages(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        region=env.str("AWS_S3_REGION_NAME", default=""),
        access_key=env.str("AWS_ACCESS_KEY_ID", default=""),
        secret_key=env.str("AWS_SECRET_ACCESS_KEY", default=""),
        custom_domain=env.str("AWS_S3_CUSTOM_DOMAIN", default=""),
        private_bucket=env.str("AWS_PRIVATE_STORAGE_BUCKET_NAME", default=""),
        private_expire_seconds=PRIVATE_URL_EXPIRE_SECONDS,
        addressing_style=env.str("AWS_S3_ADDRESSING_STYLE", default=""),
        private_acl=env.str("AWS_PRIVATE_DEFAULT_ACL", default="private"),
        url_protocol=env.str("AWS_S3_URL_PROTOCOL", default="https:"),
    )
else:
    from backoffice.storage_config import local_storages  # noqa: E402

    STORAGES = local_storages(media_root=MEDIA_ROOT, private_root=PRIVATE_MEDIA_ROOT)
# Uploaded images: limits enforced by catalog/validators.py.
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
IMAGE_MAX_PIXELS_SIDE = env.int("IMAGE_MAX_PIXELS_SIDE", default=4096)
THUMBNAIL_WIDTH = env.int("THUMBNAIL_WIDTH", default=320)

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker (make run) tasks run in-process, so nothing needs Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Late acknowledgement: a task whose worker dies half-way is redelivered, which
# is safe because every task is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A message taken by a worker that died is handed out again after this many
# seconds (Redis transport); an unreachable Redis fails a publish within
# seconds instead of hanging a web request.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

# --- Alerts (tasks/) ----------------------------------------------------------
# Expiry windows in days: a lot is in the narrowest window it has reached.
ALERT_EXPIRY_WINDOWS = env.list("ALERT_EXPIRY_WINDOWS", cast=int, default=[180, 90, 30])
# Channels that carry alerts and the digest (tasks.notifications.CHANNELS).
ALERT_CHANNELS = env.list("ALERT_CHANNELS", default=["email", "telegram"])
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
# JSON: chat ids per staff role, for every place or per place (Location.code), e.g.
# {"pharmacist": ["-1001"], "inventory": {"chilonzor": ["-1002"]}, "admin": ["-1009"]}.
TELEGRAM_CHAT_IDS = env.json("TELEGRAM_CHAT_IDS", default={})
TELEGRAM_API_BASE = env.str("TELEGRAM_API_BASE", default="https://api.telegram.org")
# Task modules outside an app's tasks.py (autodiscovery finds only those).
CELERY_IMPORTS = ["catalog.imports.tasks"]

# --- Spreadsheet imports (catalog/imports/) -----------------------------------
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
# Files with more data rows than this are checked and applied by a Celery worker.
IMPORT_ASYNC_ROWS = env.int("IMPORT_ASYNC_ROWS", default=2000)
# Decompression-bomb guard: an XLSX whose parts unpack to more than this is refused unopened.
IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", default=300 * 1024 * 1024)

# --- Selling (orders/, payments/) ---------------------------------------------
# Days after a sale within which the counter takes a return.
ORDERS_RETURN_DAYS = env.int("ORDERS_RETURN_DAYS", default=14)
# Prescription-only and controlled medicines, once they left the pharmacy, are not taken back (the
# regulator's rule for medicines sold to the public); true lets a pharmacist take them back.
ORDERS_RX_RETURNS_ALLOWED = env.bool("ORDERS_RX_RETURNS_ALLOWED", default=False)
# What the receipt's head says: the seller as registered with the tax authority.
PHARMACY_NAME = env.str("PHARMACY_NAME", default="Dorixona")
PHARMACY_STIR = env.str("PHARMACY_STIR", default="")
# The receipt's address line when the branch has none of its own (Location.address).
PHARMACY_ADDRESS = env.str("PHARMACY_ADDRESS", default="")
# The fiscal module every sale's receipt is registered with (orders/fiscal/): "console" logs the receipt
# and signs nothing (development); "http" is an online fiscal module's REST API at FISCAL_MODULE_URL.
FISCAL_MODULE = env.str("FISCAL_MODULE", default="console")
FISCAL_MODULE_URL = env.str("FISCAL_MODULE_URL", default="")
FISCAL_MODULE_TOKEN = env.str("FISCAL_MODULE_TOKEN", default="")
FISCAL_MODULE_TIMEOUT = env.float("FISCAL_MODULE_TIMEOUT", default=10.0)

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413) and MAX_DEPTH levels (400).
    "DEFAULT_PARSER_CLASSES": ["backoffice.parsers.BoundedJSONParser"],
    # Every API failure is {"code", "message"}: backoffice/api_errors.py.
    "EXCEPTION_HANDLER": "backoffice.api_errors.api_exception_handler",
    # Throttles count in the default cache (Redis in production). The auth API's
    # scopes: code-sending endpoints, code checks and logins per client IP (see
    # accounts/api/throttles.py); per phone, accounts.services.otp caps the codes issued.
    # Our throttles take the address from backoffice.client_ip. DRF's own
    # get_ident() gets the same proxy count, but when X-Forwarded-For holds fewer
    # entries than that it takes the leftmost (client-written) one where client_ip
    # falls back to REMOTE_ADDR: a new throttle must use client_ip too.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "otp_send_ip": env.str("THROTTLE_OTP_SEND_IP", default="30/hour"),
        "otp_check_ip": env.str("THROTTLE_OTP_CHECK_IP", default="30/min"),
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dorixona API",
    "DESCRIPTION": "Public catalogue and customer accounts of the Dorixona pharmacy back-office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a hash of the password: a reset ends every session at once.
    "CHECK_REVOKE_TOKEN": True,
}

# --- Customer sign-up codes and SMS (accounts/services/otp.py, accounts/sms/) ----------
OTP_CODE_TTL = timedelta(seconds=env.int("OTP_CODE_TTL_SECONDS", default=120))
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN = timedelta(seconds=env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60))
OTP_DAILY_LIMIT = env.int("OTP_DAILY_LIMIT", default=10)
# Codes of one purpose to one phone in an hour (counted in accounts/services/otp.py, not by a throttle).
OTP_HOURLY_LIMIT = env.int("OTP_HOURLY_LIMIT", default=5)
# "console" (logs the text: make run, tests), "eskiz" or "playmobile".
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
# Eskiz delivers only texts approved in its cabinet: keep this one template
# ({code}: the six digits, {minutes}: OTP_CODE_TTL in whole minutes).
SMS_CODE_TEMPLATE = env.str(
    "SMS_CODE_TEMPLATE", default="Dorixona: tasdiqlash kodi {code}. Kod {minutes} daqiqa amal qiladi."
)
# Sent instead of a code when someone signs up with a number that already has an
# account, so the answer is the same as for a new number and the owner is told.
SMS_ACCOUNT_EXISTS_TEMPLATE = env.str(
    "SMS_ACCOUNT_EXISTS_TEMPLATE",
    default="Dorixona: bu raqamda hisob allaqachon bor. Parolni unutgan boʻlsangiz, ilovada parolni tiklang.",
)
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=10.0)
ESKIZ_BASE_URL = env.str("ESKIZ_BASE_URL", default="https://notify.eskiz.uz")
ESKIZ_EMAIL = env.str("ESKIZ_EMAIL", default="")
ESKIZ_PASSWORD = env.str("ESKIZ_PASSWORD", default="")
ESKIZ_FROM = env.str("ESKIZ_FROM", default="4546")
PLAYMOBILE_BASE_URL = env.str("PLAYMOBILE_BASE_URL", default="https://send.smsxabar.uz")
PLAYMOBILE_LOGIN = env.str("PLAYMOBILE_LOGIN", default="")
PLAYMOBILE_PASSWORD = env.str("PLAYMOBILE_PASSWORD", default="")
PLAYMOBILE_ORIGINATOR = env.str("PLAYMOBILE_ORIGINATOR", default="3700")
if SMS_BACKEND not in {"console", "eskiz", "playmobile"}:
    raise ImproperlyConfigured("SMS_BACKEND must be 'console', 'eskiz' or 'playmobile'.")
if SMS_BACKEND == "eskiz" and not (ESKIZ_EMAIL and ESKIZ_PASSWORD):
    raise ImproperlyConfigured("SMS_BACKEND=eskiz needs ESKIZ_EMAIL and ESKIZ_PASSWORD.")
if SMS_BACKEND == "playmobile" and not (PLAYMOBILE_LOGIN and PLAYMOBILE_PASSWORD):
    raise ImproperlyConfigured("SMS_BACKEND=playmobile needs PLAYMOBILE_LOGIN and PLAYMOBILE_PASSWORD.")
# Storefront origins allowed to call /api/ from a browser, e.g. https://shop.example.uz
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# Public catalogue API (catalog/api/): per-IP rate, how long rendered responses
# stay in the cache (0: off; invalidated on every catalogue change anyway) and
# the max-age browsers and CDNs may reuse a response without revalidating.
CATALOG_API_THROTTLE_RATE = env.str("CATALOG_API_THROTTLE_RATE", default="300/min")
CATALOG_API_CACHE_SECONDS = env.int("CATALOG_API_CACHE_SECONDS", default=300)
CATALOG_API_MAX_AGE = env.int("CATALOG_API_MAX_AGE", default=60)
CORS_URLS_REGEX = r"^/api/.*$"

# /health/ tells anyone each check's status; what failed and why only to OTP-verified
# staff or to a caller sending "Authorization: Bearer <HEALTH_TOKEN>" (empty: no token works).
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 32 characters (or empty to turn it off).")

# --- Admin (Unfold) ---------------------------------------------------------
ADMIN_URL = env.str("DJANGO_ADMIN_URL", default="admin/")
from backoffice.unfold_config import UNFOLD  # noqa: E402, F401  (a setting, read by Unfold)

# --- Security headers -------------------------------------------------------
# Content security policy (django-csp). The Unfold admin needs exactly two
# relaxations, both checked against unfold 0.91's own static files and templates:
# - script-src 'unsafe-eval': Alpine.js (unfold/js/alpine/alpine.js, standard
#   build) compiles every x-data / x-on / x-show expression with the
#   AsyncFunction constructor. No inline <script> is needed, so no
#   'unsafe-inline' for scripts: injected markup still cannot run code.
# - style-src 'unsafe-inline': Unfold templates write style="..." attributes
#   (avatars, dropdown sizes) and Alpine binds x-bind:style.
# Images may also be data: URIs (the authenticator QR code) and come from the
# media host when media lives on S3 or behind a CDN. Nothing may frame the admin.
SELF, NONE, UNSAFE_EVAL, UNSAFE_INLINE = "'self'", "'none'", "'unsafe-eval'", "'unsafe-inline'"


def _media_origins() -> list[str]:
    from urllib.parse import urlsplit

    if not AWS_STORAGE_BUCKET_NAME:
        return []
    if env.str("AWS_S3_CUSTOM_DOMAIN", default=""):
        protocol = env.str("AWS_S3_URL_PROTOCOL", default="https:")
        return [f"{protocol}//{env.str('AWS_S3_CUSTOM_DOMAIN').split('/')[0]}"]
    endpoint = env.str("AWS_S3_ENDPOINT_URL", default="")
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"]
    return ["https://*.amazonaws.com"]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_EVAL],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", *_media_origins()],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- E-mail -----------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Dorixona <noreply@dorixona.uz>")

# --- Logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Every successful login is an INFO line from django-axes; its AccessLog table keeps them.
        "axes": {"level": "WARNING"},
    },
}
