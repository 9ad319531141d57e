from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalogue and stock")

    def ready(self) -> None:
        # Search column upkeep on every save of a name (see catalog.receivers).
        from . import receivers, thumbnails

        receivers.connect()
        # The catalogue version, which the API's caches are keyed by, on every catalogue change.
        from . import versioning

        versioning.connect_signals()
        # Product image thumbnails for the API (see catalog.thumbnails).
        thumbnails.connect()
