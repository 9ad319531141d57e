"""Page-number pagination whose total is counted once per catalogue version.

A plain paginated list runs ``SELECT COUNT(*)`` over the whole filtered
catalogue on every request: on 100,000 medicines that costs more than the page
itself. The count depends only on the query and on the catalogue, so it is
cached under the catalogue version (``catalog.api.caching``) and keyed by the
query's SQL: any catalogue change starts a new count.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination

from .caching import versioned_get_or_set
from .filters import clean_query


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            # queries.MedicineQuery caches its own count.
            return super().count
        try:
            sql = str(queryset.query)
        except Exception:  # an empty (.none()) queryset has no SQL
            return super().count
        return versioned_get_or_set("count", (queryset.model._meta.label, sql), lambda: queryset.count())


class CatalogPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = CachedCountPaginator

    # "page=last" is DRF's; the schema's page is an integer.
    last_page_strings = ()

    @cached_property
    def query_fields(self) -> dict[str, forms.Field]:
        """``page`` and ``page_size`` as the schema states them (cleaned by ``CatalogFilterSet.clean``)."""
        return {
            self.page_query_param: forms.IntegerField(required=False, min_value=1),
            self.page_size_query_param: forms.IntegerField(required=False, min_value=1, max_value=self.max_page_size),
        }

    def clean(self, request) -> dict:
        """The two parameters, cleaned, or a 400 naming each wrong one (``page_size=101`` is refused, not clamped)."""
        return clean_query(self.query_fields, request.query_params)

    def get_page_size(self, request) -> int:
        return self.clean(request)[self.page_size_query_param] or self.page_size

    def get_page_number(self, request, paginator) -> int:
        return self.clean(request)[self.page_query_param] or 1

    def page_dict(self, results: list) -> dict:
        """The paginated envelope as a plain dict (the views cache JSON, not a ``Response``)."""
        return {
            "count": self.page.paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": results,
        }

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = _(
                    "Results per page, from 1 to %(max)d (default %(default)d); any other value is refused with 400."
                ) % {"max": self.max_page_size, "default": self.page_size}
        return parameters
