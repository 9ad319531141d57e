from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.exceptions import StaffNotAllowed
from accounts.roles import API_ROLES


class CustomerJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, for customers and couriers only.

    simplejwt already refuses a deactivated user and, with
    ``CHECK_REVOKE_TOKEN``, a token issued before the last password change.
    On top: a token of a logged-out session is refused, and a user moved to a
    staff role loses API access at once.
    """

    def get_user(self, validated_token):
        from accounts.services.customers import SESSION_CLAIM, session_is_revoked

        if session_is_revoked(validated_token.get(SESSION_CLAIM)):
            raise exceptions.AuthenticationFailed(_("This session has ended. Log in again."), code="session_revoked")
        user = super().get_user(validated_token)
        if user.role not in API_ROLES:
            raise exceptions.AuthenticationFailed(StaffNotAllowed.default_message, code=StaffNotAllowed.code)
        return user


class CustomerJWTScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the bearer token."""

    target_class = "accounts.api.authentication.CustomerJWTAuthentication"
    name = "customerJWT"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="JWT"
        )
