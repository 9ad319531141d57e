from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(sender, **kwargs):
    # Connected for this app only, so it runs once per migrate. roles_sync()
    # first creates the permissions of every installed app, so apps whose own
    # post_migrate has not run yet are covered too.
    from .services.staff import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Staff and customers")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)

        post_migrate.connect(_sync_roles_after_migrate, sender=self, dispatch_uid="accounts.sync_roles")
