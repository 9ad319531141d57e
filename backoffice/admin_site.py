"""The one admin site of Dorixona: Unfold's look, django-otp's second factor."""

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.sites import UnfoldAdminSite

from accounts.forms import TOTPConfirmForm
from accounts.roles import is_staff_role
from accounts.services.staff import (
    backup_codes_issue,
    totp_device_confirm,
    totp_device_start,
    user_has_confirmed_device,
)


class DorixonaAdminSite(OTPAdminSite, UnfoldAdminSite):
    site_title = "Dorixona"
    site_header = "Dorixona"
    index_title = _("Dashboard")
    # OTPAdminSite brings a plain Django login template; Unfold's (overridden in
    # backoffice/templates/admin/login.html to add the code field) is wanted.
    login_template = None

    # OTPAdminSite defaults the instance name to "otpadmin"; the URLs and
    # templates use "admin", and apps.py instantiates this class with no name.
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_authenticated
            and user.is_staff
            and is_staff_role(user.role)
            and user.is_verified()
        )

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        # "Return to site" leads to "/", which sends whoever is not in the admin yet back to
        # this login or enrolment page: it is not offered until they are in.
        if not self.has_permission(request):
            context["site_url"] = None
        return context

    @staticmethod
    def _needs_enrolment(request: HttpRequest) -> bool:
        user = request.user
        return (
            user.is_authenticated
            and user.is_active
            and is_staff_role(user.role)
            and not user.is_verified()
            and not user_has_confirmed_device(user)
        )

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if self._needs_enrolment(request):
            return redirect(f"{self.name}:otp_setup")
        return super().login(request, extra_context)

    def get_urls(self):
        return [
            path("2fa/setup/", self.otp_setup_view, name="otp_setup"),
        ] + super().get_urls()

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    def otp_setup_view(self, request: HttpRequest) -> HttpResponse:
        return _otp_setup(self, request)


def _otp_setup(site: DorixonaAdminSite, request: HttpRequest) -> HttpResponse:
    """Enrolment: scan the QR code, confirm one code, receive backup codes once."""
    if not site._needs_enrolment(request):
        if site.has_permission(request):
            return redirect(f"{site.name}:index")
        return redirect_to_login(site, request)

    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = totp_device_start(user=request.user)

    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_device_confirm(device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            codes = backup_codes_issue(user=request.user)
            messages.success(request, _("Two-factor authentication is on."))
            return TemplateResponse(
                request,
                "accounts/otp_backup_codes.html",
                {**site.each_context(request), "title": _("Your backup codes"), "codes": codes},
            )
        form.add_error("token", _("That code is not valid. Check the time on your phone and try again."))

    context = {
        **site.each_context(request),
        "title": _("Set up two-factor authentication"),
        "form": form,
        "qr_svg": _qr_data_uri(device.config_url),
        # Typed by hand from the screen: in groups of four, as authenticator apps accept it (spaces ignored).
        "secret": grouped_in_fours(base64.b32encode(device.bin_key).decode().rstrip("=")),
    }
    return TemplateResponse(request, "accounts/otp_setup.html", context)


def redirect_to_login(site: DorixonaAdminSite, request: HttpRequest) -> HttpResponseRedirect:
    login_url = reverse(f"{site.name}:login")
    return HttpResponseRedirect(f"{login_url}?{REDIRECT_FIELD_NAME}={request.get_full_path()}")


def grouped_in_fours(key: str) -> str:
    """``"JBSWY3DPEHPK3PXP"`` -> ``"JBSW Y3DP EHPK 3PXP"``."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _qr_data_uri(payload: str) -> str:
    image = qrcode.make(payload, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
