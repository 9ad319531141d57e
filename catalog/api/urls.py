"""/api/v1/catalog/: the public, read-only catalogue API."""

from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("categories/", views.CategoryTreeView.as_view(), name="categories"),
    path("medicines/", views.MedicineListView.as_view(), name="medicines"),
    path("medicines/<slug:slug>/", views.MedicineDetailView.as_view(), name="medicine"),
    path("medicines/<slug:slug>/alternatives/", views.MedicineAlternativesView.as_view(), name="alternatives"),
    path("substances/", views.SubstanceListView.as_view(), name="substances"),
]
