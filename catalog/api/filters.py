"""Query parameters of the public medicine and substance lists.

Every parameter is validated by a form field with bounds (ids fit a bigint,
prices fit the price column, search text is short and free of NUL bytes), so
odd input is a 400 with the reason, never a database error.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from catalog.models import DosageForm, MedicineSubstance

from .tree import visible_tree

BIGINT_MAX = 2**63 - 1
SEARCH_MAX_LENGTH = 100
# The price column is numeric(14, 2).
PRICE_MAX = 10**12 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": PRICE_MAX})
class PriceFilter(django_filters.NumberFilter):
    """A price bound in UZS; more than two decimals are rounded by the database adapter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", PRICE_MAX)
        super().__init__(*args, **kwargs)


class SearchField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        # PostgreSQL refuses NUL in text; nothing a person types contains one.
        return value.replace("\x00", "").strip() if value else value


@extend_schema_field({"type": "string", "maxLength": SEARCH_MAX_LENGTH})
class SearchFilter(django_filters.CharFilter):
    field_class = SearchField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(*args, **kwargs)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering by a public name, with the id appended so pages never overlap.

    The id follows the direction of the last key (``-price`` then ``-id``), so
    one ``(is_active, price, id)`` index serves both directions, read forwards
    or backwards, and a page never sorts the thousands of medicines that share
    a price (or the many never sold) to break their ties.
    """

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = [
            self.get_ordering_value(param) for param in value if param not in django_filters.constants.EMPTY_VALUES
        ]
        tie_breaker = "-id" if ordering and ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


@extend_schema_field({"type": "string", "maxLength": 140})
class SlugFilter(django_filters.CharFilter):
    pass


class MedicineFilter(django_filters.FilterSet):
    category = SlugFilter(
        method="filter_category",
        max_length=140,
        help_text=_("Category slug; the category's subcategories are included."),
    )
    substance = IdFilter(method="filter_substance", help_text=_("Active substance id."))
    manufacturer = IdFilter(field_name="manufacturer_id", help_text=_("Manufacturer id."))
    dosage_form = django_filters.ChoiceFilter(choices=DosageForm.choices, help_text=_("Dosage form."))
    is_prescription = django_filters.BooleanFilter(help_text=_("Prescription-only medicines (true) or not (false)."))
    in_stock = django_filters.BooleanFilter(
        method="filter_in_stock", help_text=_("Only medicines that can be bought now.")
    )
    price_min = PriceFilter(field_name="price", lookup_expr="gte", help_text=_("Lowest price, UZS."))
    price_max = PriceFilter(field_name="price", lookup_expr="lte", help_text=_("Highest price, UZS."))
    q = SearchFilter(
        method="filter_search",
        help_text=_("Search by name, manufacturer or active substance, in Latin or Cyrillic; tolerates typos."),
    )
    ordering = StableOrderingFilter(
        fields=(("price", "price"), ("name", "name"), ("number_sold", "popularity")),
        help_text=_(
            "price, name or popularity; a leading minus sorts descending. Default: name."
        ),
    )

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The version the view already read: no second cache round trip, and the
        # same tree as the rest of the response.
        tree = visible_tree(getattr(self.request, "catalog_version", None))
        category_id = tree.by_slug.get(value)
        if category_id is None:
            return queryset.none()
        return queryset.filter(category_id__in=tree.descendants_and_self(category_id))

    def filter_substance(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(
            Exists(MedicineSubstance.objects.filter(medicine_id=OuterRef("pk"), substance_id=value))
        )

    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(sellable_quantity__gt=0) if value else queryset.filter(sellable_quantity=0)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        from catalog.selectors import medicine_search

        return medicine_search(query=value, queryset=queryset)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The search runs last, on the already narrowed queryset, so the
        # selector's own ordering survives unless an explicit ordering is asked for.
        search = self.form.cleaned_data.get("q")
        ordering = self.form.cleaned_data.get("ordering")
        for name, value in self.form.cleaned_data.items():
            if name in ("q", "ordering"):
                continue
            queryset = self.filters[name].filter(queryset, value)
        if search:
            queryset = self.filters["q"].filter(queryset, search)
        if ordering:
            queryset = self.filters["ordering"].filter(queryset, ordering)
        return queryset


class SubstanceFilter(django_filters.FilterSet):
    q = SearchFilter(method="filter_search", help_text=_("Part of the INN, Uzbek or Russian name, or an ATC code."))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        # SQLite's LIKE folds ASCII case only: try the usual casings of a
        # Cyrillic word as well (PostgreSQL's ILIKE folds them itself).
        variants = {value, value.lower(), value.upper(), value.capitalize()}
        condition = Q()
        for variant in variants:
            condition |= (
                Q(inn_name__icontains=variant) | Q(name_uz__icontains=variant) | Q(name_ru__icontains=variant)
            )
        condition |= Q(atc_codes__icontains=value.upper())
        return queryset.filter(condition)
