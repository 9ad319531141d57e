"""/api/v1/catalog/: the public, read-only catalogue API."""

from django.urls import path, re_path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("categories/", views.CategoryTreeView.as_view(), name="categories"),
    path("medicines/", views.MedicineListView.as_view(), name="medicines"),
    path("medicines/<slug:slug>/", views.MedicineDetailView.as_view(), name="medicine"),
    path("medicines/<slug:slug>/alternatives/", views.MedicineAlternativesView.as_view(), name="alternatives"),
    path("medicines/<slug:slug>/availability/", views.MedicineAvailabilityView.as_view(), name="availability"),
    path("locations/", views.LocationListView.as_view(), name="locations"),
    path("substances/", views.SubstanceListView.as_view(), name="substances"),
    # Anything else under the prefix (a malformed slug, one with a slash in it...)
    # is a JSON 404 like the rest of the API, not Django's HTML page.
    re_path(r"^.*/$", views.NotFoundView.as_view(), name="not-found"),
]
