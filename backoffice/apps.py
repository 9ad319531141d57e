from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DorixonaAdminConfig(admin_apps.AdminConfig):
    """Makes ``admin.site`` the Dorixona site, so every app registers on it."""

    default = False
    default_site = "backoffice.admin_site.DorixonaAdminSite"


class BackofficeConfig(AppConfig):
    default = True
    name = "backoffice"
    verbose_name = "Dorixona"
