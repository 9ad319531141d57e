"""The customer accounts API (/api/v1/auth/). Views parse, call one service, answer."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import customers as services
from backoffice.api_errors import error_responses
from backoffice.client_ip import client_network

from . import serializers as s
from .authentication import CustomerJWTAuthentication
from .throttles import SEND_THROTTLES, CheckIPThrottle, LoginIPThrottle, PhoneChangeSendIPThrottle

TAG = ["auth"]


# Every endpoint with a body (backoffice.parsers).
VALIDATION = (400, "validation_error, malformed_request, json_too_deep")
TOO_LARGE = (413, "request_too_large")
BODY = (VALIDATION, TOO_LARGE)
# Endpoints that send a code (accounts.services.otp): per-IP throttle, phone-wide cooldown,
# hourly and daily caps per phone and client, Redis away.
SENDS_A_CODE = (
    (429, "rate_limited, code_cooldown, code_hourly_limit, code_daily_limit (with Retry-After)"),
    (503, "service_unavailable (with Retry-After)"),
)
THROTTLED = (429, "rate_limited (with Retry-After)")
UNAUTHENTICATED = (401, "not_authenticated, token_invalid, account_disabled, staff_use_admin")


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class CustomerView(APIView):
    authentication_classes = [CustomerJWTAuthentication]
    permission_classes = [IsAuthenticated]


class RegisterView(PublicView):
    throttle_classes = SEND_THROTTLES

    @extend_schema(
        tags=TAG,
        summary="Sign up with a phone number",
        description=(
            "Sends a 6-digit code by SMS; the account is created when verify/ confirms it with the same password. "
            "Answers the same for a number that already has an account: its owner gets an SMS saying so."
        ),
        request=s.RegisterSerializer,
        responses={202: s.CodeSentSerializer, **error_responses(*BODY, *SENDS_A_CODE)},
    )
    def post(self, request):
        data = _valid(s.RegisterSerializer, request)
        services.customer_register(**data, client=client_network(request))
        return Response(s.CodeSentSerializer.for_phone(data["phone"]), status=status.HTTP_202_ACCEPTED)


class VerifyView(PublicView):
    throttle_classes = [CheckIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Confirm the sign-up code",
        description=(
            "Creates the account from the sign-up made with this password and returns the first token pair. "
            "A password no sign-up of the number was given answers like a wrong code."
        ),
        request=s.VerifySerializer,
        responses={200: s.TokenPairSerializer, **error_responses(*BODY, (400, "code_invalid, code_locked"), THROTTLED)},
    )
    def post(self, request):
        data = _valid(s.VerifySerializer, request)
        user = services.customer_verify(**data)
        return Response(services.tokens_issue(user=user))


class ResendView(PublicView):
    throttle_classes = SEND_THROTTLES

    @extend_schema(
        tags=TAG,
        summary="Send a new code",
        description=(
            "For a pending sign-up (purpose `register`, the default) or a password reset (`password_reset`). "
            "Answers the same whether or not the number has an account; waits 60 s between codes."
        ),
        request=s.ResendSerializer,
        responses={202: s.CodeSentSerializer, **error_responses(*BODY, *SENDS_A_CODE)},
    )
    def post(self, request):
        data = _valid(s.ResendSerializer, request)
        services.code_resend(**data, client=client_network(request))
        return Response(s.CodeSentSerializer.for_phone(data["phone"]), status=status.HTTP_202_ACCEPTED)


class LoginView(PublicView):
    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Log in with phone and password",
        description="Customers and couriers only; a staff account is refused like a wrong password.",
        request=s.LoginSerializer,
        responses={
            200: s.TokenPairSerializer,
            **error_responses(
                *BODY,
                (401, "invalid_credentials"),
                (403, "account_not_verified, account_disabled"),
                (429, "login_locked, rate_limited (with Retry-After)"),
            ),
        },
    )
    def post(self, request):
        data = _valid(s.LoginSerializer, request)
        user = services.customer_login(request=request, **data)
        return Response(services.tokens_issue(user=user))


class RefreshView(PublicView):
    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Exchange a refresh token for a new pair",
        description="The old refresh token is blacklisted (rotation): use the new one next time.",
        request=s.RefreshSerializer,
        responses={
            200: s.TokenPairSerializer,
            **error_responses(*BODY, (401, "token_invalid"), (403, "account_disabled, staff_use_admin"), THROTTLED),
        },
    )
    def post(self, request):
        data = _valid(s.RefreshSerializer, request)
        return Response(services.token_refresh(refresh=data["refresh"]))


class LogoutView(PublicView):
    @extend_schema(
        tags=TAG,
        summary="Log out",
        description="Blacklists the refresh token; it cannot be refreshed again.",
        request=s.RefreshSerializer,
        responses={204: None, **error_responses(*BODY, (401, "token_invalid"))},
    )
    def post(self, request):
        data = _valid(s.RefreshSerializer, request)
        services.token_logout(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordForgotView(PublicView):
    throttle_classes = SEND_THROTTLES

    @extend_schema(
        tags=TAG,
        summary="Forgot password: send a reset code",
        description="Answers exactly the same for a registered and an unknown number.",
        request=s.PhoneSerializer,
        responses={202: s.CodeSentSerializer, **error_responses(*BODY, *SENDS_A_CODE)},
        examples=[OpenApiExample("Request", value={"phone": "+998901234567"}, request_only=True)],
    )
    def post(self, request):
        data = _valid(s.PhoneSerializer, request)
        services.password_forgot(phone=data["phone"], client=client_network(request))
        return Response(s.CodeSentSerializer.for_phone(data["phone"]), status=status.HTTP_202_ACCEPTED)


class PasswordResetView(PublicView):
    throttle_classes = [CheckIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Set a new password with the reset code",
        description="Every refresh token of the user is blacklisted and every access token stops working.",
        request=s.PasswordResetSerializer,
        responses={204: None, **error_responses(*BODY, (400, "code_invalid, code_locked"), THROTTLED)},
    )
    def post(self, request):
        data = _valid(s.PasswordResetSerializer, request)
        services.password_reset(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(CustomerView):
    @extend_schema(
        tags=TAG,
        summary="The signed-in user's profile",
        responses={200: s.MeSerializer, **error_responses(UNAUTHENTICATED)},
    )
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)

    @extend_schema(
        tags=TAG,
        summary="Change first name, last name or address",
        request=s.MeSerializer,
        responses={200: s.MeSerializer, **error_responses(*BODY, UNAUTHENTICATED)},
    )
    def patch(self, request):
        serializer = s.MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.customer_profile_update(user=request.user, **serializer.validated_data)
        return Response(s.MeSerializer(user).data)


class MePhoneView(CustomerView):
    throttle_classes = [PhoneChangeSendIPThrottle, CheckIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Change the phone number",
        description=(
            "Two steps on one endpoint: send `phone` (the new number) to have a code sent to it (202); "
            "send `phone` and `code` to make the change (200). A number another account holds is answered "
            "like a free one, and no code is sent to it."
        ),
        request=s.PhoneChangeSerializer,
        responses={
            200: s.MeSerializer,
            202: s.CodeSentSerializer,
            **error_responses(
                *BODY,
                (400, "code_invalid, code_locked"),
                UNAUTHENTICATED,
                (409, "phone_taken (on confirming, if another account took the number meanwhile)"),
                *SENDS_A_CODE,
            ),
        },
    )
    def post(self, request):
        data = _valid(s.PhoneChangeSerializer, request)
        if data.get("code"):
            user = services.customer_phone_change_confirm(user=request.user, phone=data["phone"], code=data["code"])
            return Response(s.MeSerializer(user).data)
        services.customer_phone_change_start(user=request.user, phone=data["phone"], client=client_network(request))
        return Response(s.CodeSentSerializer.for_phone(data["phone"]), status=status.HTTP_202_ACCEPTED)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
