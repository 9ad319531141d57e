from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    # Runs once per migrate, after the last app: by then every permission exists.
    from django.apps import apps as global_apps

    if app_config is None or app_config.label != list(global_apps.get_app_configs())[-1].label:
        return
    from .services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff and customers")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
