"""Query parameters of the public medicine and substance lists.

Every parameter is validated by a form field with bounds (ids fit a bigint,
prices fit the price column, search text is short and free of NUL bytes), so
odd input is a 400 with the reason, never a database error.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import BaseCSVField
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions

from catalog.models import DosageForm

from .locations import public_locations

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


class PublicLocationField(forms.IntegerField):
    """The id of a place the locations list shows; any other id is refused, not answered with an empty list.

    A storefront that kept the id of a branch since closed or hidden learns so,
    instead of showing that nothing is in stock there. The places are those of
    the current catalogue version (``locations.public_locations``: read once per
    version, so a request costs no query).
    """

    default_error_messages = {"unknown": _("No pharmacy has this id: take one from the locations list.")}

    def clean(self, value):
        value = super().clean(value)  # an integer within the bounds first
        if value is not None and value not in public_locations().ids:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return value


class PublicLocationFilter(IdFilter):
    field_class = PublicLocationField


@extend_schema_field({"type": "number", "minimum": 0, "maximum": PRICE_MAX})
class PriceFilter(django_filters.NumberFilter):
    """A price bound in UZS; more than two decimals are rounded by the database adapter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", PRICE_MAX)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, as the schema's boolean is written in a query string; absent: no filter.

    django-filter's boolean widget reads anything else ("maybe", "1", "yes") as
    absent, so a mistyped filter silently returned the unfiltered list.
    """

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Enter true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


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


class SlugField(forms.CharField):
    """Any text up to ``max_length``: a category is looked up among the visible ones, never in SQL.

    The schema offers any string, so one that cannot be a slug (a NUL byte
    included) simply matches no category, rather than being refused.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


@extend_schema_field({"type": "string", "maxLength": 140})
class SlugFilter(django_filters.CharFilter):
    field_class = SlugField


def _may_be_empty(field: forms.Field) -> bool:
    # An empty string is a string, and an empty comma-separated list is a list;
    # an empty number, boolean, id or choice is no value of its type.
    return isinstance(field, (forms.CharField, BaseCSVField))


def clean_query(fields: dict[str, forms.Field], data) -> dict:
    """``data`` (a ``QueryDict``) cleaned by ``fields``, or a 400 naming every wrong parameter.

    A parameter given twice is refused (the schema offers no arrays of
    values), and so is an empty value of a parameter that is not text or a list.
    """
    cleaned, errors = {}, {}
    for name, form_field in fields.items():
        values = data.getlist(name)
        if len(values) > 1:
            errors[name] = [_("Give this parameter once.")]
            continue
        if values == [""] and not _may_be_empty(form_field):
            errors[name] = [_("Give a value, or leave this parameter out.")]
            continue
        try:
            cleaned[name] = form_field.clean(form_field.widget.value_from_datadict(data, {}, name))
        except forms.ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise exceptions.ValidationError(errors)
    return cleaned


class CatalogFilterSet(django_filters.FilterSet):
    """A FilterSet that also cleans its parameters without being built: the catalogue's one way to read them.

    Building a FilterSet deep-copies every filter, and its form builds a form
    class and deep-copies every field, on each request: that costs a
    storefront's uncached page more than its query. ``clean`` runs the same
    widgets and fields of the class's own filters (shared: their cleaning keeps
    no state) and ``filter_cleaned`` the same ``Filter.filter`` calls that
    ``.qs`` makes. The schema (drf-spectacular, through ``DjangoFilterBackend``)
    reads the same declarations.

    Stricter than an HTML form, because the schema is: a parameter given twice
    is refused, and so is an empty value of a parameter that is not text.
    Filters that select through ``filter()`` must not use ``method=`` (a
    method is looked up on a built FilterSet).
    """

    @classmethod
    def clean(cls, data, extra_fields: dict[str, forms.Field] | None = None) -> dict:
        """What ``cls(data).form.cleaned_data`` holds, or a 400 naming every wrong parameter.

        ``extra_fields`` (the paginator's ``page`` and ``page_size``) are
        cleaned alongside, so one answer names every wrong parameter.
        """
        fields = {name: declared.field for name, declared in cls.base_filters.items()}
        return clean_query({**fields, **(extra_fields or {})}, data)

    @classmethod
    def filter_cleaned(cls, queryset: QuerySet, cleaned: dict) -> QuerySet:
        """``queryset`` narrowed by every filter with its value in ``cleaned`` (``clean``'s), as ``.qs`` narrows it."""
        for name, declared in cls.base_filters.items():
            queryset = declared.filter(queryset, cleaned.get(name))
        return queryset


class MedicineFilter(CatalogFilterSet):
    """The parameters of the medicine list: their types, bounds and help (for validation and the schema).

    The view cleans them with ``MedicineFilter.clean``; what each one selects
    is written in SQL by ``queries.MedicineQuery.from_params`` (the filters'
    own ``filter()`` is never called).
    """

    category = SlugFilter(max_length=140, help_text=_("Category slug; the category's subcategories are included."))
    substance = IdFilter(help_text=_("Active substance id."))
    manufacturer = IdFilter(help_text=_("Manufacturer id."))
    dosage_form = django_filters.ChoiceFilter(choices=DosageForm.choices, help_text=_("Dosage form."))
    is_prescription = StrictBooleanFilter(help_text=_("Prescription-only medicines (true) or not (false)."))
    in_stock = StrictBooleanFilter(help_text=_("Only medicines that can be bought now."))
    location = PublicLocationFilter(
        help_text=_(
            "Only medicines in stock at this pharmacy: an id from the locations list (any other id is refused)."
        )
    )
    price_min = PriceFilter(help_text=_("Lowest price, UZS."))
    price_max = PriceFilter(help_text=_("Highest price, UZS."))
    q = SearchFilter(
        help_text=_("Search by name, manufacturer or active substance, in Latin or Cyrillic; tolerates typos."),
    )
    # Ties are broken by id in the direction of the last key, so pages never overlap.
    ordering = django_filters.OrderingFilter(
        fields=(("price", "price"), ("name", "name"), ("number_sold", "popularity")),
        help_text=_("price, name or popularity; a leading minus sorts descending. Default: name."),
    )


class SubstanceSearchFilter(SearchFilter):
    """Part of the INN, Uzbek or Russian name, in any case, or of an ATC code."""

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if not value:
            return queryset
        # SQLite's LIKE folds ASCII case only: try the usual casings of a
        # Cyrillic word as well (PostgreSQL's ILIKE folds them itself).
        variants = {value, value.lower(), value.upper(), value.capitalize()}
        condition = Q()
        for variant in variants:
            condition |= Q(inn_name__icontains=variant) | Q(name_uz__icontains=variant) | Q(name_ru__icontains=variant)
        condition |= Q(atc_codes__icontains=value.upper())
        return queryset.filter(condition)


class SubstanceFilter(CatalogFilterSet):
    q = SubstanceSearchFilter(help_text=_("Part of the INN, Uzbek or Russian name, or an ATC code."))
