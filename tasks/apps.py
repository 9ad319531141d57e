from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_schedules(sender, using="default", **kwargs) -> None:
    from .schedules import schedules_ensure

    schedules_ensure()


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("Alerts and scheduled tasks")

    def ready(self) -> None:
        # After migrate the periodic schedules exist, so `make run` and a fresh
        # deployment have them without another step.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="tasks.ensure_schedules")

        from catalog.signals import stock_changed

        from .receivers import stock_changed as rescan_stock

        stock_changed.connect(rescan_stock, dispatch_uid="tasks.rescan_stock")
