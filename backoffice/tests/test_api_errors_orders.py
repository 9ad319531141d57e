"""The counter's refusals over HTTP: every ``OrdersError`` has its status, in the one error shape, from an
API view and from a plain Django JSON view (the till's endpoints) alike."""

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from backoffice.api_errors import STATUS_BY_CODE, domain_error_body, domain_error_response, error_status
from orders import exceptions
from orders.exceptions import OrdersError, PriceChange

PRICES = exceptions.PricesChanged([PriceChange(7, "Paracetamol 500 mg", "10000.00", "11000.00")])


class Raises(APIView):
    permission_classes = [AllowAny]
    error: Exception = RuntimeError("no error given")

    def post(self, request):
        raise self.error


def till_endpoint(request):
    """As a till's JSON endpoint answers: the service's refusal through the same mapping."""
    try:
        raise exceptions.ShiftClosed()
    except OrdersError as exc:
        return domain_error_response(exc)


urlpatterns = [
    path("api/v1/prices/", Raises.as_view(error=PRICES)),
    path("api/v1/not-allowed/", Raises.as_view(error=exceptions.NotAllowed())),
    path("till/complete/", till_endpoint),
]


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_orders_error_is_named_in_the_status_map():
    errors = {OrdersError, *_subclasses(OrdersError)}
    assert {error.code for error in errors} - set(STATUS_BY_CODE) == set()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PRICES, 409),
        (exceptions.ShiftRequired(), 409),
        (exceptions.ReturnTooMany(returnable=1, medicine="Aspirin"), 409),
        (exceptions.ReturnPeriodOver(days=14), 409),
        (exceptions.NotAllowed(), 403),
        (exceptions.NotYourShift(), 403),
        (exceptions.ControlledConfirmationRequired(medicines="Tramadol"), 403),
        (exceptions.ControlledOnline(medicines="Tramadol"), 403),
        (exceptions.InvalidAmount(), 400),
        (exceptions.PaymentShort(paid="1", total="2"), 400),
        (exceptions.PrescriptionRequired(medicines="Amoxicillin"), 400),
        (exceptions.ReturnUnknownLine(), 400),
    ],
)
def test_a_conflict_is_409_a_refusal_of_the_member_403_and_bad_input_400(error, status):
    assert error_status(error) == status


def test_a_refusal_with_a_code_of_its_own_answers_as_its_class_does():
    assert error_status(exceptions.ReturnRefused("Not today.", code="return_closed_today")) == 409
    assert error_status(exceptions.NotAllowed("Not you.", code="not_your_drawer")) == 403


@pytest.mark.urls(__name__)
def test_a_changed_price_under_an_api_view_is_a_409_with_the_new_prices(client):
    response = client.post("/api/v1/prices/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "prices_changed"
    assert "Paracetamol 500 mg (10000.00 → 11000.00)" in body["message"]
    assert body["changes"] == [
        {"medicine_id": 7, "medicine": "Paracetamol 500 mg", "expected": "10000.00", "current": "11000.00"}
    ]
    assert body == domain_error_body(PRICES)


@pytest.mark.urls(__name__)
def test_not_allowed_under_an_api_view_is_a_403(client):
    response = client.post("/api/v1/not-allowed/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json() == {"code": "not_allowed", "message": "You are not allowed to do this."}


@pytest.mark.urls(__name__)
def test_a_plain_json_view_answers_a_refusal_in_the_same_shape(client):
    response = client.post("/till/complete/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "shift_closed", "message": "This shift is closed."}
