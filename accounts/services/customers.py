"""Every write of the customer accounts API: sign-up, login, tokens, profile, password.

Views call these; nothing else changes a customer's account, tokens or codes.
Codes are checked by ``accounts.services.otp.otp_verify`` before the write's own
transaction, so that a wrong try stays counted when the write is refused.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth import authenticate, password_validation, user_logged_in, user_login_failed
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from ..exceptions import (
    AccountDisabled,
    AccountNotVerified,
    CodeInvalid,
    InvalidCredentials,
    LoginLocked,
    PhoneTaken,
    StaffNotAllowed,
    TokenInvalid,
)
from ..models import CodePurpose, PhoneCode, User
from ..roles import API_ROLES, Role
from .otp import DAY, IssuedCode, otp_issue, otp_verify

PROFILE_FIELDS = ("first_name", "last_name", "address")


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


# --- Tokens -------------------------------------------------------------------


SESSION_CLAIM = "sid"


def _revoked_session_key(session_id: str) -> str:
    return f"auth:revoked-session:{session_id}"


def session_is_revoked(session_id: str | None) -> bool:
    return bool(session_id) and cache.get(_revoked_session_key(session_id)) is not None


def tokens_issue(*, user: User, session_id: str | None = None) -> dict[str, str]:
    """A fresh access + refresh pair for ``user``; both carry the role and the session id.

    The session id stays the same through every rotation of one login, so a
    logout can refuse the access tokens of that login too (see ``token_logout``).
    """
    if user.role not in API_ROLES:
        raise StaffNotAllowed()
    refresh = RefreshToken.for_user(user)  # also recorded as an outstanding token
    refresh["role"] = user.role
    refresh[SESSION_CLAIM] = session_id or refresh.payload[jwt_settings.JTI_CLAIM]
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _user_of(token: RefreshToken) -> User:
    user = User.objects.filter(pk=token.payload.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None:
        raise TokenInvalid()
    if jwt_settings.CHECK_REVOKE_TOKEN and token.payload.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
        user.password
    ):
        raise TokenInvalid()
    return user


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        # Checks signature, expiry, type and the blacklist.
        return RefreshToken(raw)
    except TokenError as exc:
        raise TokenInvalid() from exc


def _blacklist(token: RefreshToken) -> None:
    """Blacklist ``token``; refuse it if it already was (two refreshes of one token)."""
    jti = token.payload[jwt_settings.JTI_CLAIM]
    try:
        with transaction.atomic():
            outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=jti).first()
            if outstanding is None:
                outstanding = token.outstand()
            _blacklisted, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    except IntegrityError as exc:
        raise TokenInvalid() from exc
    if not created:
        raise TokenInvalid()


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate: blacklist ``refresh`` and return a new pair.

    Only one of two requests refreshing the same token wins; the loser gets
    ``TokenInvalid``, as does any later use of the old token.
    """
    token = _parse_refresh(refresh)
    user = _user_of(token)
    if not user.is_active:
        raise AccountDisabled()
    if user.role not in API_ROLES:
        raise StaffNotAllowed()
    _blacklist(token)
    return tokens_issue(user=user, session_id=token.payload.get(SESSION_CLAIM))


def token_logout(*, refresh: str, user: User | None = None) -> None:
    """End the session of ``refresh``: the token is blacklisted and its access tokens refused.

    Access tokens are checked against a revoked-session mark in the cache, kept
    as long as an access token lives; were the cache lost, they would still
    expire within ``ACCESS_TOKEN_LIFETIME``.
    """
    token = _parse_refresh(refresh)
    if user is not None and str(token.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise TokenInvalid()
    _blacklist(token)
    session_id = token.payload.get(SESSION_CLAIM)
    if session_id:
        lifetime = jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()
        cache.set(_revoked_session_key(session_id), 1, timeout=math.ceil(lifetime) + 60)


def user_tokens_revoke(*, user: User) -> int:
    """Blacklist every outstanding, unexpired refresh token of ``user``; return how many."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    tokens = list(live)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)
    return len(tokens)


# --- Sign-up ------------------------------------------------------------------


def _is_pending_signup(user: User) -> bool:
    # An inactive customer who never proved the phone: a sign-up left unfinished
    # by an earlier version of this flow, which created the account up front.
    return not user.is_active and user.phone_verified_at is None and user.role == Role.CUSTOMER


def _phone_has_account(phone: str) -> bool:
    user = User.objects.filter(phone=phone).first()
    return user is not None and not _is_pending_signup(user)


def customer_register(
    *, phone: str, password: str, first_name: str, last_name: str, address: str = "", client: str | None
) -> IssuedCode:
    """Send a sign-up code to ``phone``; the account is created when the code confirms it.

    ``client`` is the network of the client asking (``backoffice.client_ip.client_network``,
    None with no request): the hourly and daily caps of ``accounts.services.otp`` count per client.

    Each sign-up keeps its password hash and profile with the code sent for it,
    and nothing else changes until ``customer_verify``: there the code proves
    the phone and the password sent with it picks the sign-up. So a stranger
    who signs up the same number can neither replace the owner's password or
    profile nor take the account, and the owner can confirm with whichever
    code reached the phone last.

    A number that already has an account (customer, courier, staff,
    deactivated) goes through the same steps - a password hash, the cooldown,
    the caps, an SMS - but the SMS tells the owner they already have an
    account, so the answer reveals nothing.
    """
    candidate = User(phone=phone, first_name=first_name, last_name=last_name, role=Role.CUSTOMER)
    _validate_password(password, candidate)
    # Hashed in both branches, so that they take the same time.
    signup = {
        "password": make_password(password),
        "first_name": first_name,
        "last_name": last_name,
        "address": address,
    }
    if _phone_has_account(phone):
        return otp_issue(
            phone=phone, purpose=CodePurpose.REGISTER, template=settings.SMS_ACCOUNT_EXISTS_TEMPLATE, client=client
        )
    return otp_issue(phone=phone, purpose=CodePurpose.REGISTER, signup=signup, client=client)


def _pending_signup(phone: str) -> bool:
    """Whether a sign-up of ``phone`` waits for its code (one started in the last day)."""
    recent = PhoneCode.objects.filter(
        phone=phone, purpose=CodePurpose.REGISTER, signup__isnull=False, created_at__gt=timezone.now() - DAY
    )
    return recent.exists() and not _phone_has_account(phone)


def _signup_with_password(phone: str, password: str) -> dict | None:
    """The newest recent sign-up of ``phone`` whose password is ``password``."""
    recent = (
        PhoneCode.objects.filter(
            phone=phone, purpose=CodePurpose.REGISTER, signup__isnull=False, created_at__gt=timezone.now() - DAY
        )
        .order_by("-created_at")
        .values_list("signup", flat=True)[: settings.OTP_DAILY_LIMIT]
    )
    for signup in recent:
        if check_password(password, signup.get("password", "")):
            return signup
    return None


def customer_verify(*, phone: str, code: str, password: str) -> User:
    """Confirm a sign-up with its SMS code and its password: the account is created, active.

    The profile is the one sent with that password (see ``customer_register``);
    a password no sign-up of the number was given answers like a wrong code,
    and before the code is looked at: a guess without it counts no wrong try,
    so a stranger cannot lock the code the owner is about to type.
    """
    signup = _signup_with_password(phone, password)
    if signup is None:
        raise CodeInvalid()
    otp_verify(phone=phone, purpose=CodePurpose.REGISTER, code=code)
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(phone=phone).first()
            if user is None:
                user = User(phone=phone, role=Role.CUSTOMER)
            elif not _is_pending_signup(user):
                raise CodeInvalid()
            user.first_name, user.last_name = signup["first_name"], signup["last_name"]
            user.address = signup["address"]
            user.password = signup["password"]
            user.is_active = True
            user.phone_verified_at = timezone.now()
            user.save()
            # The other sign-ups of the number are void now: drop their password hashes.
            PhoneCode.objects.filter(phone=phone, purpose=CodePurpose.REGISTER, signup__isnull=False).update(
                signup=None
            )
    except IntegrityError as exc:  # two confirmations of one number at the same moment
        raise CodeInvalid() from exc
    return user


def code_resend(*, phone: str, purpose: str, client: str | None) -> IssuedCode:
    """A new code for a pending sign-up or a password reset, asked for by ``client``.

    Answers alike whether or not there is anyone to send it to; it is sent
    only when there is. For a sign-up, a number that already has an account is
    sent the same "you already have an account" text its ``register/`` sent, so
    its codes count as sent, like those of a free number's pending sign-up:
    how many resends it takes to meet the cap tells nothing.
    """
    if purpose == CodePurpose.REGISTER:
        # Both reads for every number, so that the work does not differ either.
        pending, taken, told = _pending_signup(phone), _phone_has_account(phone), _signed_up_lately(phone)
        if pending:
            return otp_issue(phone=phone, purpose=purpose, client=client)
        if taken and told:
            return otp_issue(phone=phone, purpose=purpose, template=settings.SMS_ACCOUNT_EXISTS_TEMPLATE, client=client)
        return otp_issue(phone=phone, purpose=purpose, deliver=False, client=client)
    return password_forgot(phone=phone, client=client)


def _signed_up_lately(phone: str) -> bool:
    """Whether ``register/`` sent this number a text in the last day (a code or "you have an account")."""
    return PhoneCode.objects.filter(
        phone=phone, purpose=CodePurpose.REGISTER, delivered=True, created_at__gt=timezone.now() - DAY
    ).exists()


# --- Login --------------------------------------------------------------------


def customer_login(*, request: Request | HttpRequest | None, phone: str, password: str) -> User:
    """Check phone and password; only customers and couriers get tokens.

    Failures count towards django-axes' lockout (phone and IP together), the
    same one that guards the staff login.
    """
    user = authenticate(request, username=phone, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginLocked(retry_after=math.ceil(settings.AXES_COOLOFF_TIME.total_seconds()))
    if user is None:
        candidate = User.objects.filter(phone=phone, is_active=False).first()
        if candidate is not None and candidate.check_password(password):
            raise AccountDisabled() if candidate.phone_verified_at else AccountNotVerified()
        raise InvalidCredentials()
    if user.role not in API_ROLES:
        # Staff sign in to the back-office, with their second factor. Answered
        # like a wrong password, and counted as a failure by django-axes: here a
        # right staff password must neither show nor be testable without limit.
        user_login_failed.send(sender=__name__, credentials={"username": phone}, request=request)
        raise InvalidCredentials()
    # Resets the failure count (django-axes) and sets last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return user


# --- Password recovery ---------------------------------------------------------


def _api_user(phone: str) -> User | None:
    return User.objects.filter(phone=phone, is_active=True, role__in=API_ROLES).first()


def password_forgot(*, phone: str, client: str | None) -> IssuedCode:
    """Send a reset code if ``phone`` belongs to an active customer or courier.

    An unknown number goes through the very same steps (a code row, the
    cooldown, the caps of ``client``) without an SMS, so the answer tells nothing.
    """
    user = _api_user(phone)
    return otp_issue(phone=phone, purpose=CodePurpose.PASSWORD_RESET, deliver=user is not None, client=client)


def password_reset(*, phone: str, code: str, password: str) -> User:
    """Set a new password with a reset code; every session of the user ends.

    Before the code is proven the password is checked against the number alone:
    checked against the owner's profile, "too similar to the first name" would
    tell a stranger that the number has an account, and the name. Once the code
    proves the phone, the owner's own name and address are refused too (that
    code is spent; the owner asks for another).
    """
    user = _api_user(phone)
    # A weak password is refused before the code is spent, the same for every number.
    _validate_password(password, User(phone=phone))
    otp_verify(phone=phone, purpose=CodePurpose.PASSWORD_RESET, code=code)
    if user is None:
        raise CodeInvalid()
    _validate_password(password, user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(password)
        user.save()
        # Refresh tokens are blacklisted; access tokens die with the password
        # hash they carry (SIMPLE_JWT["CHECK_REVOKE_TOKEN"]).
        user_tokens_revoke(user=user)
    return user


# --- Profile --------------------------------------------------------------------


def customer_profile_update(*, user: User, **changes: str) -> User:
    """Change the first name, last name and/or address of ``user``."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in changes], validate_unique=False)
        user.save()
    return user


def customer_phone_change_start(*, user: User, phone: str, client: str | None) -> IssuedCode:
    """Send a code to the new number ``phone``; the change waits for it.

    ``client`` is the network of the client asking, whose caps the code counts against.

    Answers alike whether or not another account holds ``phone``; the code is
    sent only when none does.
    """
    if phone == user.phone:
        raise ValidationError({"phone": [gettext("This is already your phone number.")]})
    # A number another account holds goes through the same steps without an SMS:
    # the answer must not tell whether the number is taken. No code reaches anyone,
    # so the change cannot be confirmed.
    taken = User.objects.filter(phone=phone).exclude(pk=user.pk).exists()
    return otp_issue(phone=phone, purpose=CodePurpose.PHONE_CHANGE, user=user, deliver=not taken, client=client)


def customer_phone_change_confirm(*, user: User, phone: str, code: str) -> User:
    """Move ``user`` to the number ``phone`` once its code is confirmed."""
    otp_verify(phone=phone, purpose=CodePurpose.PHONE_CHANGE, code=code, user=user)
    try:
        with transaction.atomic():
            if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
                raise PhoneTaken()
            user = User.objects.select_for_update().get(pk=user.pk)
            user.phone = phone
            user.phone_verified_at = timezone.now()
            user.save()
    except IntegrityError as exc:
        raise PhoneTaken() from exc
    return user
