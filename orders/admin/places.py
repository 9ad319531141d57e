"""What the sales admins share: a member sees the sales documents of the places they work at.

The administrator (a superuser) sees every place. A record of another place is not found (404), on its
page and on its history pages alike: simple-history's own views read the record without the admin's
queryset, and Django's change view redirects to the index, so ``PlaceScopedAdmin`` checks it before them.
"""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter

from catalog.stock import member_location_ids, visible_locations


def place_filter(request: HttpRequest, field: str) -> Q | None:
    """``Q`` keeping the rows whose ``field`` (a location foreign key path) is one of the member's places."""
    mine = member_location_ids(request.user)
    if mine is None:
        return None
    return Q(**{f"{field}__in": mine})


class PlaceScopedAdmin:
    """Rows of the member's places only (``place_field``: the path to the row's location)."""

    place_field = "location"

    def place_scope(self, request: HttpRequest) -> Q | None:
        return place_filter(request, self.place_field)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = self.place_scope(request)
        return queryset if scope is None else queryset.filter(scope)

    def _check_in_scope(self, request: HttpRequest, object_id) -> None:
        if not self.get_queryset(request).filter(pk=unquote(str(object_id))).exists():
            raise Http404

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        # Django answers a record it cannot find with a redirect to the index; another place's sale is simply
        # not there for this member.
        self._check_in_scope(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        self._check_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        self._check_in_scope(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class MemberPlaceFilter(RelatedDropdownFilter):
    """A place among the member's places (every place for the administrator)."""

    def field_choices(self, field, request, model_admin):
        return [(place.pk, place.name) for place in visible_locations(request.user)]

    def has_output(self) -> bool:
        # Django hides a related filter with one choice and then drops its parameter unapplied.
        return bool(self.lookup_choices)


class MemberStaffFilter(RelatedDropdownFilter):
    """A staff member working at one of the member's places (any staff member for the administrator).

    An autocomplete would ask the users admin, which most roles may not open.
    """

    def field_choices(self, field, request, model_admin):
        staff = get_user_model().objects.filter(is_staff=True)
        mine = member_location_ids(request.user)
        if mine is not None:
            staff = staff.filter(Q(locations__in=mine) | Q(pk=request.user.pk)).distinct()
        return [(user.pk, str(user)) for user in staff.order_by("phone")]

    def has_output(self) -> bool:
        return bool(self.lookup_choices)


def table(headers: list, rows: list[list], empty=None) -> str:
    """An Unfold table for a read-only field of a page (``empty``: what to say when there is no row)."""
    if not rows:
        return str(empty if empty is not None else _("None"))
    return render_to_string("admin/orders/table.html", {"table": {"headers": headers, "rows": rows}})
