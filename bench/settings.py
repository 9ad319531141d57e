"""Settings of the API benchmark's server: the local settings, routed through ``bench.urls``.

``bench/bench_api.py`` starts gunicorn with ``DJANGO_SETTINGS_MODULE=bench.settings``, so the bare
baseline endpoint exists only on that server; product settings and URLs never mention it.
"""

from backoffice.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
