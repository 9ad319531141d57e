"""The till: the point-of-sale page and what it calls (scan, complete a sale) and the 80 mm receipt.

- ``orders_order_pos``: the page, for a member who may sell (``orders.sell``), at their open shift;
- ``orders_order_pos_scan`` (GET ``?q=``): JSON, what a scan or a typed name finds at the shift's place
  (``orders.selectors_till.till_scan``);
- ``orders_order_pos_complete`` (POST, JSON): parses the till's sale and calls
  ``orders.services.counter_sale_complete``; every refusal comes back as ``{"code", "message", ...}``
  with the status ``backoffice.api_errors`` gives its code, and nothing is written;
- ``orders_order_receipt``: the printable receipt, built from the fiscal receipt's own figures
  (``orders.fiscal.services.order_receipt``) so the paper and the fiscal module show the same numbers.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from backoffice.api_errors import domain_error_response, error_body
from backoffice.exceptions import DomainError
from catalog.formatting import format_date, format_units, format_uzs
from catalog.stock import works_at
from orders import exceptions, rules, services
from orders.fiscal.services import order_receipt
from orders.models import Order
from orders.selectors import open_shift_of, order_detail
from orders.selectors_till import controlled_confirmers, till_scan
from payments.models import CardNetwork, Method
from payments.services import PaymentIn

VIEW_ORDER = "orders.view_order"


def _check_sell(request: HttpRequest) -> None:
    if not request.user.has_perm(rules.SELL):
        raise PermissionDenied


def pos_view(model_admin, request: HttpRequest):
    _check_sell(request)
    shift = open_shift_of(request.user)
    confirmers = list(controlled_confirmers(shift.location)) if shift is not None else []
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Till"),
        "opts": model_admin.model._meta,
        "shift": shift,
        "shift_open_url": reverse(f"{model_admin.admin_site.name}:orders_shift_open"),
        "card_networks": CardNetwork.choices,
        "confirmers": confirmers,
        "till_config": {
            "scanUrl": reverse(f"{model_admin.admin_site.name}:orders_order_pos_scan"),
            "completeUrl": reverse(f"{model_admin.admin_site.name}:orders_order_pos_complete"),
        },
    }
    return TemplateResponse(request, "admin/orders/till/pos.html", context)


def _shift_or_refusal(request: HttpRequest):
    shift = open_shift_of(request.user)
    if shift is None:
        return None, domain_error_response(exceptions.ShiftRequired())
    return shift, None


def scan_view(model_admin, request: HttpRequest):
    _check_sell(request)
    shift, refusal = _shift_or_refusal(request)
    if refusal is not None:
        return refusal
    result = till_scan(query=request.GET.get("q", "")[:200], location_id=shift.location_id)
    return JsonResponse(result.as_json())


# --- completing a sale ------------------------------------------------------------------


class BadSale(Exception):
    """The till's request is not the shape a sale has (a bug or a tampered request, not a rule).

    Not a domain error: the view's own parsing refuses it (400 ``malformed_request``) before any service runs."""


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadSale(name)
    return value


def _amount(value, name: str) -> Decimal:
    try:
        return rules.money(value)
    except exceptions.InvalidAmount as error:
        raise BadSale(name) from error


def _sale_lines(data) -> list[services.SaleLine]:
    if not isinstance(data, list):
        raise BadSale("lines")
    lines = []
    for item in data:
        if not isinstance(item, dict):
            raise BadSale("lines")
        quantity = _int(item.get("quantity"), "quantity")
        if quantity <= 0:
            raise BadSale("quantity")
        expected = item.get("expected_amount")
        lines.append(
            services.SaleLine(
                medicine_id=_int(item.get("medicine_id"), "medicine_id"),
                quantity=quantity,
                discount=_amount(item.get("discount") or "0", "discount"),
                expected_amount=_amount(expected, "expected_amount") if expected is not None else None,
            )
        )
    return lines


def _payments(data) -> list[PaymentIn]:
    if not isinstance(data, list):
        raise BadSale("payments")
    payments = []
    for item in data:
        if not isinstance(item, dict) or item.get("method") not in (Method.CASH, Method.CARD):
            raise BadSale("payments")
        tendered = item.get("tendered")
        payments.append(
            PaymentIn(
                method=item["method"],
                amount=_amount(item.get("amount"), "amount"),
                tendered=_amount(tendered, "tendered") if tendered not in (None, "") else None,
                card_network=str(item.get("card_network") or ""),
                reference=str(item.get("reference") or "")[:64],
            )
        )
    return payments


def _prescription(data) -> services.PrescriptionIn | None:
    if not data:
        return None
    if not isinstance(data, dict):
        raise BadSale("prescription")

    def text(name: str, limit: int = 200) -> str:
        return str(data.get(name) or "")[:limit]

    return services.PrescriptionIn(
        prescriber=text("prescriber"),
        number=text("number", 64),
        issued_on=parse_date(text("issued_on", 10)) if data.get("issued_on") else None,
        patient_name=text("patient_name"),
        e_prescription_id=text("e_prescription_id", 64),
    )


def _confirmed_by(request: HttpRequest, data: dict, shift):
    """The pharmacist confirming controlled lines: the cashier, or another holder working here who gives
    their password at the till (the operator cannot confirm on their behalf)."""
    confirmer_id = data.get("confirmed_by")
    if confirmer_id in (None, ""):
        return None
    confirmer_id = _int(confirmer_id, "confirmed_by")
    if confirmer_id == request.user.pk:
        return request.user
    confirmer = controlled_confirmers(shift.location).filter(pk=confirmer_id).first()
    # Through authenticate(), so django-axes counts the wrong passwords typed at this till and locks the
    # pair (that pharmacist, this address) as it does at the login page: the till is no way round it.
    password = str(data.get("confirm_password") or "")
    if confirmer is None or authenticate(request, username=confirmer.phone, password=password) != confirmer:
        raise exceptions.NotAllowed(
            gettext("The confirming pharmacist's password is not right."), code="confirmation_refused"
        )
    return confirmer


def _malformed() -> JsonResponse:
    return JsonResponse(error_body("malformed_request", gettext("The sale sent by the till is not valid.")), status=400)


def complete_view(model_admin, request: HttpRequest):
    _check_sell(request)
    try:
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            raise BadSale("body")
        lines = _sale_lines(data.get("lines"))
        payments = _payments(data.get("payments"))
        prescription = _prescription(data.get("prescription"))
    except (ValueError, BadSale):
        return _malformed()
    shift = open_shift_of(request.user)
    try:
        confirmed_by = _confirmed_by(request, data, shift) if shift is not None else None
        order = services.counter_sale_complete(
            shift=shift,
            lines=lines,
            payments_in=payments,
            user=request.user,
            prescription=prescription,
            controlled_confirmed_by=confirmed_by,
        )
    except BadSale:
        return _malformed()
    except DomainError as error:
        return domain_error_response(error)
    return JsonResponse(
        {
            "order_id": order.pk,
            "number": order.number,
            "total": str(order.total),
            # The change as recorded on the sale's cash payments, not recomputed from the request.
            "change": str(sum((p.change or 0 for p in order.payments.all() if p.method == Method.CASH), Decimal("0"))),
            "receipt_url": reverse(f"{model_admin.admin_site.name}:orders_order_receipt", args=[order.pk]),
        },
        status=201,
    )


# --- the receipt ----------------------------------------------------------------------------


def _qr_data_uri(payload: str) -> str:
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=1)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def receipt_view(model_admin, request: HttpRequest, pk: int):
    if not request.user.has_perm(VIEW_ORDER):
        raise PermissionDenied
    try:
        order = order_detail(pk)
    except Order.DoesNotExist:
        raise Http404 from None
    # Another place's sales are not a member's to see: as if it did not exist.
    if not works_at(request.user, order.location_id):
        raise Http404
    receipt = order_receipt(order)
    # The fiscal lines and the order's come in the same (line id) order: the part's name is the medicine's.
    part_names = [line.medicine.part_name for line in order.lines.all()]
    lines = [
        {
            "name": line.name,
            "quantity": format_units(line.quantity, line.parts_per_pack, part_name),
            # A line of loose parts has no one unit price to multiply: its quantity and total say it.
            "price": "" if line.parts_per_pack > 1 and line.quantity % line.parts_per_pack else format_uzs(line.price),
            "discount": format_uzs(line.discount) if line.discount else "",
            "total": format_uzs(line.total),
            "vat_percent": f"{line.vat_percent.normalize():f}",
            "vat_amount": format_uzs(line.vat_amount),
        }
        for line, part_name in zip(receipt.lines, part_names, strict=True)
    ]
    payments = [
        {
            "method": payment.get_method_display(),
            "network": payment.get_card_network_display() if payment.card_network else "",
            "reference": payment.reference,
            "amount": format_uzs(payment.amount),
            "tendered": format_uzs(payment.tendered) if payment.tendered is not None else "",
            "change": format_uzs(payment.change) if payment.change else "",
        }
        for payment in order.payments.all()
    ]
    context = {
        "order": order,
        "pharmacy_name": settings.PHARMACY_NAME,
        # The branch's own address when it has one (a chain registers one STIR for every branch).
        "pharmacy_address": order.location.address or settings.PHARMACY_ADDRESS,
        "pharmacy_stir": settings.PHARMACY_STIR,
        # The cashier by name (a member's phone number is not the customer's business).
        "cashier": (order.cashier.get_full_name() if order.cashier else "") or receipt.cashier,
        "time": format_date(receipt.time),
        "number": receipt.number,
        "lines": lines,
        "subtotal": format_uzs(order.subtotal),
        "discount": format_uzs(order.discount_total) if order.discount_total else "",
        "total": format_uzs(receipt.total),
        "vat_total": format_uzs(receipt.vat_total),
        "payments": payments,
        "qr": _qr_data_uri(order.fiscal_qr_url or order.number),
    }
    return TemplateResponse(request, "admin/orders/till/receipt.html", context)


def till_urls(model_admin) -> list[URLPattern]:
    wrap = model_admin.admin_site.admin_view

    def bound(view):
        def handler(request, *args, **kwargs):
            return view(model_admin, request, *args, **kwargs)

        return handler

    return [
        path("till/", wrap(require_GET(bound(pos_view))), name="orders_order_pos"),
        path("till/scan/", wrap(require_GET(bound(scan_view))), name="orders_order_pos_scan"),
        path("till/complete/", wrap(require_POST(bound(complete_view))), name="orders_order_pos_complete"),
        path("<int:pk>/receipt/", wrap(require_GET(bound(receipt_view))), name="orders_order_receipt"),
    ]
