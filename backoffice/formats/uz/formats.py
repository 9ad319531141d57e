from backoffice.formats import *  # noqa: F403  (one format for every language)
