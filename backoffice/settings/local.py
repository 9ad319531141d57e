"""Settings for `make run` and local development: the embedded defaults."""

from .base import *  # noqa: F403
