"""A cashier's shift: opening it with the opening cash, closing it with the counted cash, the Z-report.

Hung off the Order admin's URLs (``shift_urls``): ``admin:orders_shift_open``, ``admin:orders_shift_close``
and ``admin:orders_shift_zreport`` (both with the shift's pk). Every change goes through
``orders.services`` (``shift_open``, ``shift_close``), which checks the same permissions again: here they
decide what the member is offered (open: ``orders.add_shift``; closing one's own shift:
``orders.change_shift``, another's: ``orders.close_any_shift`` at a place they work at; the Z-report:
``orders.view_shift`` at the shift's place). A service's refusal is shown as its message on the same
page, and nothing changed.

The Z-report is an 80 mm page of its own (no admin chrome) to print at the till: a closed shift's is the
one kept when it closed (``Shift.z_report``), an open shift's is the interim figures as they stand.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminSelectWidget

from backoffice.exceptions import DomainError
from catalog.formatting import format_uzs
from catalog.models import MONEY
from catalog.stock import visible_locations, works_at
from orders import rules, services
from orders.models import Shift
from orders.selectors import open_shift_of, shift_figures, shift_vat_by_rate
from payments.models import Method

ZERO = Decimal("0")


class ShiftOpenForm(forms.Form):
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=None, widget=UnfoldAdminSelectWidget, empty_label=None
    )
    opening_cash = forms.DecimalField(
        label=_("Opening cash, UZS"),
        min_value=ZERO,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text=_("The cash in the drawer now, before the first sale."),
        **MONEY,
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Among the places the member works at (every place for the administrator).
        self.fields["location"].queryset = visible_locations(user).order_by("name", "id")


class ShiftCloseForm(forms.Form):
    counted_cash = forms.DecimalField(
        label=_("Counted cash, UZS"),
        min_value=ZERO,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text=_("Count the drawer: the difference from the expected cash is recorded."),
        **MONEY,
    )


def _decimal(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def _when(value) -> str:
    if not value:
        return ""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if isinstance(moment, datetime.datetime):
        return moment.strftime("%d.%m.%Y %H:%M")
    return str(value)


def _method_label(method: str) -> str:
    return str(Method(method).label) if method in Method.values else method


def zreport_rows(report: dict) -> dict:
    """The Z-report's figures as the page prints them, from the kept (or interim) JSON."""
    paid = {method: _decimal(amount) for method, amount in (report.get("paid_by_method") or {}).items()}
    refunded = {method: _decimal(amount) for method, amount in (report.get("refunded_by_method") or {}).items()}
    methods = [method for method in Method.values if method in paid or method in refunded]
    counted = report.get("counted_cash")
    difference = report.get("cash_difference")
    return {
        "opened_at": _when(report.get("opened_at")),
        "closed_at": _when(report.get("closed_at")),
        "sales_count": report.get("sales_count", 0),
        "returns_count": report.get("returns_count", 0),
        "sales_total": format_uzs(_decimal(report.get("sales_total"))),
        "returns_total": format_uzs(_decimal(report.get("returns_total"))),
        "net_total": format_uzs(_decimal(report.get("sales_total")) - _decimal(report.get("returns_total"))),
        "discounts": format_uzs(_decimal(report.get("discounts"))),
        "vat_total": format_uzs(_decimal(report.get("vat_total"))),
        "returns_vat": format_uzs(_decimal(report.get("returns_vat"))),
        "by_method": [
            {
                "label": _method_label(method),
                "paid": format_uzs(paid.get(method, ZERO)),
                "refunded": format_uzs(refunded.get(method, ZERO)),
                "has_refunds": refunded.get(method, ZERO) > 0,
            }
            for method in methods
        ],
        "vat_by_rate": [
            {
                "rate": _decimal(row.get("rate")).normalize(),
                "sales": format_uzs(_decimal(row.get("sales"))),
                "sales_vat": format_uzs(_decimal(row.get("sales_vat"))),
                "returns": format_uzs(_decimal(row.get("returns"))),
                "returns_vat": format_uzs(_decimal(row.get("returns_vat"))),
                "has_returns": _decimal(row.get("returns")) > 0,
            }
            for row in report.get("vat_by_rate") or []
        ],
        "opening_cash": format_uzs(_decimal(report.get("opening_cash"))),
        "expected_cash": format_uzs(_decimal(report.get("expected_cash"))),
        "counted_cash": format_uzs(_decimal(counted)) if counted is not None else "",
        "cash_difference": format_uzs(_decimal(difference)) if difference is not None else "",
    }


class ShiftPages:
    def __init__(self, model_admin) -> None:
        self.model_admin = model_admin
        self.site = model_admin.admin_site

    def _url(self, name: str, *args) -> str:
        return reverse(f"{self.site.name}:{name}", args=args)

    def _page(self, request: HttpRequest, template: str, title, **extra) -> TemplateResponse:
        context = {**self.site.each_context(request), "title": title, "opts": self.model_admin.model._meta, **extra}
        return TemplateResponse(request, f"admin/orders/shift/{template}", context)

    def _shift(self, pk: int) -> Shift:
        return get_object_or_404(Shift.objects.select_related("location", "cashier", "closed_by"), pk=pk)

    def open(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (user.has_perm(rules.OPEN_SHIFT) and user.has_perm(rules.SELL)):
            raise PermissionDenied
        current = open_shift_of(user)
        if current is not None:
            messages.info(
                request,
                _("Your shift at %(location)s is open: sell there, or close it first.")
                % {"location": current.location.name},
            )
            return HttpResponseRedirect(self._url("orders_order_pos"))
        form = ShiftOpenForm(request.POST if request.method == "POST" else None, user=user)
        if form.is_bound and form.is_valid():
            try:
                shift = services.shift_open(
                    location=form.cleaned_data["location"], user=user, opening_cash=form.cleaned_data["opening_cash"]
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Shift opened at %(location)s with %(cash)s in the drawer.")
                    % {"location": shift.location.name, "cash": format_uzs(shift.opening_cash)},
                )
                return HttpResponseRedirect(self._url("orders_order_pos"))
        return self._page(request, "open.html", _("Open a cash shift"), form=form)

    def close(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        shift = self._shift(pk)
        own = shift.cashier_id == user.pk
        if own:
            allowed = user.has_perm(rules.CLOSE_SHIFT)
        else:
            allowed = user.has_perm(rules.CLOSE_ANY_SHIFT) and works_at(user, shift.location_id)
        if not allowed:
            raise PermissionDenied
        zreport_url = self._url("orders_shift_zreport", shift.pk)
        if not shift.is_open:
            messages.warning(request, _("This shift is closed already: here is its Z-report."))
            return HttpResponseRedirect(zreport_url)
        form = ShiftCloseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                closed = services.shift_close(shift=shift, user=user, counted_cash=form.cleaned_data["counted_cash"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Shift closed: %(counted)s counted, %(expected)s expected, difference %(difference)s.")
                    % {
                        "counted": format_uzs(closed.counted_cash),
                        "expected": format_uzs(closed.expected_cash),
                        "difference": format_uzs(closed.cash_difference),
                    },
                )
                return HttpResponseRedirect(zreport_url)
        figures = shift_figures(shift)
        title = _("Close shift #%(shift)s") % {"shift": shift.pk}
        return self._page(
            request,
            "close.html",
            title,
            form=form,
            shift=shift,
            own=own,
            figures=zreport_rows(figures.as_json()),
            zreport_url=zreport_url,
        )

    def zreport(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        shift = self._shift(pk)
        if not (user.has_perm(rules.VIEW_SHIFT) and works_at(user, shift.location_id)):
            raise PermissionDenied
        if shift.is_open:
            report = {
                **shift_figures(shift).as_json(),
                "vat_by_rate": [rate.as_json() for rate in shift_vat_by_rate(shift)],
            }
        else:
            report = shift.z_report
        context = {
            "title": _("Z-report, shift #%(shift)s") % {"shift": shift.pk},
            "shift": shift,
            "interim": shift.is_open,
            "report": zreport_rows(report),
            "pharmacy_name": settings.PHARMACY_NAME,
            "pharmacy_stir": settings.PHARMACY_STIR,
            "back_url": self._url("orders_order_pos"),
        }
        return TemplateResponse(request, "admin/orders/shift/zreport.html", context)


def shift_urls(model_admin) -> list[URLPattern]:
    pages = ShiftPages(model_admin)
    wrap = model_admin.admin_site.admin_view
    return [
        path("shift/open/", wrap(pages.open), name="orders_shift_open"),
        path("shift/<int:pk>/close/", wrap(pages.close), name="orders_shift_close"),
        path("shift/<int:pk>/z-report/", wrap(pages.zreport), name="orders_shift_zreport"),
    ]
