"""Experiment only, never used by default: the product's settings with persistent
database connections, to measure what CONN_MAX_AGE=0 costs (docs/performance.md).

    DJANGO_SETTINGS_MODULE=bench.what_if_settings python -m bench relay --quick
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
