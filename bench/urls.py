"""The project's URLs with the API benchmark's floor in front: ``/api/v1/_bare/`` (``bench.baseline``)."""

from django.urls import path

from backoffice.urls import handler404, handler500  # noqa: F401
from backoffice.urls import urlpatterns as project_urlpatterns
from bench.baseline import bare_json_view

urlpatterns = [path("api/v1/_bare/", bare_json_view, name="bench-bare"), *project_urlpatterns]
