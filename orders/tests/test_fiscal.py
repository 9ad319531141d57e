"""The fiscal module over HTTP, against a real HTTP server on 127.0.0.1 that answers as the protocol says
(``orders/fiscal/http.py``): signatures, refusals, outages, and never a receipt registered twice."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import current_app
from django.db.models import Sum

from catalog.tests.factories import MedicineFactory, receive
from orders import services
from orders.fiscal import FiscalUnavailable
from orders.fiscal.http import HttpBackend
from orders.fiscal.services import order_fiscalise, order_receipt, return_fiscalise, return_receipt
from orders.models import FiscalState, Order, Return
from orders.tasks import fiscalize, fiscalize_return
from orders.tests.factories import card, cash, open_shift, sell

pytestmark = pytest.mark.django_db


@dataclass
class Seen:
    path: str
    headers: dict
    body: dict


@dataclass
class FakeFiscalModule:
    """``answers``: what the next requests get, in order — ``(status, body)``, ``"hang"`` (no answer until the
    test ends), or nothing left: the receipt is signed (once per ``Idempotency-Key``)."""

    token: str = "test-token"
    answers: deque = field(default_factory=deque)
    requests: list[Seen] = field(default_factory=list)
    signed: dict[str, dict] = field(default_factory=dict)
    released: threading.Event = field(default_factory=threading.Event)

    def sign(self, body: dict) -> dict:
        serial = len(self.signed) + 1
        check = f"t=UZ191211502580&r={1000 + serial}&c=20261202143005&s=48372910{serial:04d}"
        return {
            "terminal_id": "UZ191211502580",
            "receipt_number": str(1000 + serial),
            "fiscal_sign": f"48372910{serial:04d}",
            "time": "20261202143005",
            "qr_url": f"https://ofd.soliq.uz/epi?{check}",
        }

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict | None]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}")
        self.requests.append(Seen(handler.path, dict(handler.headers), body))
        if self.answers:
            planned = self.answers.popleft()
            if planned == "hang":
                self.released.wait(timeout=10)
                return 503, None
            return planned
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": {"code": "UNAUTHORIZED", "message": "Bad token"}}
        key = handler.headers.get("Idempotency-Key", "")
        if key in self.signed:
            return 409, self.signed[key]
        self.signed[key] = self.sign(body)
        return 201, self.signed[key]

    def start(self) -> str:
        module = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                status, body = module.answer(self)
                data = json.dumps(body).encode() if body is not None else b"<html>Bad gateway</html>"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json" if body is not None else "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def module(settings):
    fake = FakeFiscalModule()
    settings.FISCAL_MODULE = "http"
    settings.FISCAL_MODULE_URL = fake.start()
    settings.FISCAL_MODULE_TOKEN = fake.token
    settings.FISCAL_MODULE_TIMEOUT = 0.5
    yield fake
    fake.stop()


def _medicine(**kwargs):
    kwargs.setdefault("price", Decimal("12000"))
    medicine = MedicineFactory(mxik_code="06404001001000000", package_code="1520282", **kwargs)
    receive(medicine, 10)
    return medicine


def _sale(**kwargs):
    shift = open_shift()
    return sell(shift, (_medicine(), 3), **kwargs)


def test_a_sale_is_sent_on_commit_and_keeps_the_fiscal_sign_and_qr(module, django_capture_on_commit_callbacks):
    shift = open_shift()
    medicine = _medicine()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = sell(shift, (medicine, 3), payments=[card("10000"), cash("26000", tendered="30000")])
    # Nothing leaves before the sale is committed.
    assert module.requests == []

    for callback in callbacks:
        callback()

    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.DONE
    assert order.fiscal_sign == "483729100001"
    assert order.fiscal_terminal == "UZ191211502580"
    assert order.fiscal_receipt_number == "1001"
    assert order.fiscal_qr_url.startswith("https://ofd.soliq.uz/epi?t=UZ191211502580&r=1001&")
    assert order.fiscal_error == ""
    [seen] = module.requests
    assert seen.path == "/api/v1/receipts"
    assert seen.headers["Authorization"] == "Bearer test-token"
    assert seen.headers["Idempotency-Key"] == order.number
    body = seen.body
    assert body["receipt_type"] == "sale"
    assert body["number"] == order.number
    assert body["payments"] == {"cash": 2600000, "card": 1000000}
    assert body["total"] == 3600000
    assert body["vat_total"] == 385714  # 36000 × 12 / 112, in tiyin
    assert body["items"] == [
        {
            "name": medicine.name,
            "mxik": "06404001001000000",
            "package_code": "1520282",
            "quantity": 3,
            "unit": "pack",
            "parts_per_pack": 1,
            "price": 1200000,
            "amount": 3600000,
            "discount": 0,
            "total": 3600000,
            "vat_percent": "12.00",
            "vat": 385714,
        }
    ]


def test_a_refusal_is_kept_on_the_order_with_its_message_and_not_retried(module):
    order = _sale()
    module.answers.append((400, {"error": {"code": "MXIK_NOT_FOUND", "message": "Unknown MXIK code"}}))

    assert fiscalize.apply(args=[order.pk]).get() == FiscalState.FAILED

    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.FAILED
    assert order.fiscal_error == "MXIK_NOT_FOUND: Unknown MXIK code"
    assert order.fiscal_sign == ""
    assert len(module.requests) == 1


@pytest.mark.parametrize(
    "outage",
    [(503, {"error": {"code": "DOWN", "message": "Maintenance"}}), (500, None), (429, {"error": {"code": "SLOW"}})],
)
def test_an_outage_leaves_the_order_waiting_and_the_task_retries_until_it_is_signed(module, outage):
    order = _sale()
    module.answers.extend([outage, outage])

    with pytest.raises(FiscalUnavailable):
        order_fiscalise(order_id=order.pk)
    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.PENDING

    # The task tries again until the module answers (run eagerly, its retries follow at once, not after
    # the backoff a worker waits).
    assert fiscalize.apply(args=[order.pk], throw=False).get() == FiscalState.DONE
    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.DONE
    assert len(module.requests) == 3
    assert fiscalize.autoretry_for == (FiscalUnavailable,)


def test_a_timeout_or_a_module_that_is_not_there_is_unavailable(module, settings):
    order = _sale()
    module.answers.append("hang")
    with pytest.raises(FiscalUnavailable, match="Timeout"):
        order_fiscalise(order_id=order.pk)

    with socket.socket() as closed:  # a port nothing listens on once this socket is closed
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.FISCAL_MODULE_URL = f"http://127.0.0.1:{port}/api/v1"
    with pytest.raises(FiscalUnavailable, match="ConnectionError"):
        order_fiscalise(order_id=order.pk)
    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.PENDING
    assert order.fiscal_error == ""


def test_a_wrong_token_is_not_a_refusal_of_the_receipt(module, settings):
    settings.FISCAL_MODULE_TOKEN = "stale"
    order = _sale()
    with pytest.raises(FiscalUnavailable, match="401"):
        order_fiscalise(order_id=order.pk)
    order.refresh_from_db()
    assert order.fiscal_state == FiscalState.PENDING


def test_a_repeat_never_registers_the_receipt_twice(module):
    order = _sale()
    assert order_fiscalise(order_id=order.pk) == FiscalState.DONE
    assert order_fiscalise(order_id=order.pk) == FiscalState.DONE
    assert fiscalize.apply(args=[order.pk]).get() == FiscalState.DONE
    assert len(module.requests) == 1

    # A retry whose first answer was lost: the module knows the number and answers with that registration.
    Order.objects.filter(pk=order.pk).update(fiscal_state=FiscalState.PENDING)
    assert order_fiscalise(order_id=order.pk) == FiscalState.DONE
    order.refresh_from_db()
    assert order.fiscal_sign == "483729100001"
    assert len(module.signed) == 1


class RacedBackend(HttpBackend):
    """A second worker fiscalises the order while this one's request is on the wire."""

    def register(self, receipt):
        Order.objects.filter(number=receipt.number).update(
            fiscal_state=FiscalState.DONE, fiscal_sign="FIRST", fiscal_terminal="T1", fiscal_receipt_number="1"
        )
        return super().register(receipt)


def test_a_late_answer_never_overwrites_a_fiscal_sign_already_kept(module, settings):
    settings.FISCAL_MODULE = "orders.tests.test_fiscal.RacedBackend"
    order = _sale()

    order_fiscalise(order_id=order.pk)

    order.refresh_from_db()
    assert (order.fiscal_state, order.fiscal_sign, order.fiscal_receipt_number) == (FiscalState.DONE, "FIRST", "1")


def test_a_return_is_a_refund_receipt_against_the_sales_own(module, django_capture_on_commit_callbacks):
    shift = open_shift()
    medicine = _medicine()
    order = sell(shift, (medicine, 3), payments=[card("36000")])
    order_fiscalise(order_id=order.pk)
    order.refresh_from_db()
    line = order.lines.get()

    with django_capture_on_commit_callbacks(execute=True):
        return_doc = services.order_return(
            order=order,
            items=[services.ReturnItem(line_id=line.pk, quantity=1, resaleable=True)],
            reason="Bought twice",
            shift=shift,
            user=shift.cashier,
        )

    return_doc.refresh_from_db()
    assert return_doc.fiscal_state == FiscalState.DONE
    assert return_doc.fiscal_sign == "483729100002"
    refund = module.requests[-1].body
    assert refund["receipt_type"] == "refund"
    assert refund["number"] == return_doc.number
    assert refund["refund_of"]["fiscal_sign"] == order.fiscal_sign
    assert refund["refund_of"]["receipt_number"] == order.fiscal_receipt_number
    assert refund["payments"] == {"cash": 0, "card": 1200000}
    assert refund["total"] == 1200000
    assert [(item["quantity"], item["total"], item["vat"]) for item in refund["items"]] == [(1, 1200000, 128571)]


def test_a_refund_waits_for_the_sale_and_one_against_a_refused_sale_is_refused(module):
    shift = open_shift()
    order = sell(shift, (_medicine(), 2))
    line = order.lines.get()
    item = [services.ReturnItem(line_id=line.pk, quantity=1, resaleable=True)]
    return_doc = services.order_return(order=order, items=item, reason="Wrong one", shift=shift, user=shift.cashier)

    with pytest.raises(FiscalUnavailable, match="not fiscalised yet"):
        return_fiscalise(return_id=return_doc.pk)
    assert module.requests == []

    Order.objects.filter(pk=order.pk).update(fiscal_state=FiscalState.FAILED, fiscal_error="MXIK")
    assert fiscalize_return.apply(args=[return_doc.pk]).get() == FiscalState.FAILED
    return_doc.refresh_from_db()
    assert return_doc.fiscal_state == FiscalState.FAILED
    assert "refused" in return_doc.fiscal_error
    assert module.requests == []


def test_the_receipt_of_an_order_adds_up_to_the_order():
    shift = open_shift()
    plain = MedicineFactory(price=Decimal("15500"))
    exempt = MedicineFactory(price=Decimal("8300"), vat_rate=Decimal("0"))
    parts = MedicineFactory(price=Decimal("20000"), parts_per_pack=10, part_price=Decimal("2500"))
    for medicine in (plain, exempt, parts):
        receive(medicine, 30)
    lines = [
        services.SaleLine(medicine_id=plain.pk, quantity=2, discount=Decimal("1000")),
        services.SaleLine(medicine_id=exempt.pk, quantity=1),
        services.SaleLine(medicine_id=parts.pk, quantity=13),
    ]
    # 31000 − 1000 + 8300 + 20000 + 3 × 2500 = 65800
    order = services.counter_sale_complete(
        shift=shift, lines=lines, payments_in=[card("40000"), cash("25800")], user=shift.cashier
    )

    receipt = order_receipt(order)

    order.refresh_from_db()
    assert receipt.total == order.total == Decimal("65800.00")
    assert sum(line.total for line in receipt.lines) == order.total
    assert sum(line.discount for line in receipt.lines) == order.discount_total
    assert sum(line.vat_amount for line in receipt.lines) == receipt.vat_total == order.vat_total
    assert receipt.cash + receipt.card == order.total
    assert order.lines.aggregate(total=Sum("total"))["total"] == order.total

    return_doc = services.order_return(
        order=order,
        items=[services.ReturnItem(line_id=order.lines.get(medicine=plain).pk, quantity=2, resaleable=True)],
        reason="Changed mind",
        shift=shift,
        user=shift.cashier,
    )
    refund = return_receipt(Return.objects.get(pk=return_doc.pk))
    assert refund.total == sum(line.total for line in refund.lines) == Decimal("30000.00")
    assert refund.cash + refund.card == refund.total


def test_the_fiscal_tasks_are_found_by_the_celery_app_by_their_names():
    current_app.loader.import_default_modules()
    assert current_app.tasks["orders.fiscalize"].name == fiscalize.name
    assert current_app.tasks["orders.fiscalize_return"].name == fiscalize_return.name
