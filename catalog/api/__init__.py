"""The public catalogue API: see views.py for how a request is served and caching.py for invalidation."""
