from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.forms import AuthenticationForm
from unfold.widgets import BASE_INPUT_CLASSES

from .models import BackupCodeDevice
from .phone import PHONE_INPUT_MAX_LENGTH
from .services.staff import user_has_confirmed_device

User = get_user_model()


class StaffLoginForm(OTPAuthenticationFormMixin, AuthenticationForm):
    """Phone + password + the code from the authenticator app (or a backup code).

    Staff do not choose a device: six digits go to the authenticator, anything
    else to the backup codes. Someone who has never enrolled passes with the
    password alone and is then held on the enrolment page until they do
    (``backoffice.admin_site``): they are not OTP-verified until then.
    """

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        help_text=_("Six digits from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": " ".join(BASE_INPUT_CLASSES),
            }
        ),
    )

    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=_("Enter the code from your authenticator app."),
        invalid_token=_("That code is not valid. Check the time on your phone and try again."),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = _("Phone")
        # Django sizes the field to the stored phone (16 characters), so a browser
        # would cut "+998 90 123 45 67" short: accept what the phone parser accepts.
        username.max_length = PHONE_INPUT_MAX_LENGTH
        username.widget.attrs["maxlength"] = str(PHONE_INPUT_MAX_LENGTH)
        username.widget.attrs["placeholder"] = "+998 90 123 45 67"

    def clean(self):
        self.cleaned_data = super().clean()
        user = self.get_user()
        if user is not None and user_has_confirmed_device(user):
            self.cleaned_data["otp_device"] = self._device_for_token(user, self.cleaned_data.get("otp_token") or "")
            self.clean_otp(user)
        return self.cleaned_data

    @staticmethod
    def _device_for_token(user, token: str) -> str:
        token = token.strip().replace(" ", "")
        if token.isdigit() and len(token) == 6:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        else:
            device = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
        return device.persistent_id if device else ""


class TOTPConfirmForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": " ".join(BASE_INPUT_CLASSES)}
        ),
    )
