from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from backoffice.health import health_view
from backoffice.storage import private_file_view

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", health_view, name="health"),
    # Import uploads and exports: permission-checked, never public (backoffice/storage.py).
    path("private-files/<path:name>", private_file_view, name="private-file"),
    path("api/v1/auth/", include("accounts.api.urls", namespace="auth")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/swagger/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="schema-swagger"),
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="schema-redoc"),
    path("api/v1/catalog/", include("catalog.api.urls", namespace="catalog-api")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", RedirectView.as_view(url=f"/{settings.ADMIN_URL}", permanent=False)),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "backoffice.error_pages.page_not_found"
handler500 = "backoffice.error_pages.server_error"
