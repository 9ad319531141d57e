from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import CodePurpose, User
from accounts.phone import PHONE_INPUT_MAX_LENGTH, PHONE_INPUT_PATTERN, normalize_phone


class StrictCharField(serializers.CharField):
    """A string and only a string.

    DRF's CharField takes ``0`` or ``1.5`` and stores ``"0"``; the schema says
    "string", so a number, a boolean, a list or an object is refused like any
    other wrong type.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "string", "minLength": 1, "maxLength": PHONE_INPUT_MAX_LENGTH, "pattern": PHONE_INPUT_PATTERN}
)
class PhoneField(StrictCharField):
    """Any way people write an Uzbek number in, ``+998XXXXXXXXX`` out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PHONE_INPUT_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="invalid_phone") from exc


CODE_PATTERN = r"^\d{6}$"


# The pattern alone already refuses every other length; the schema says so in lengths too.
@extend_schema_field({"type": "string", "minLength": 6, "maxLength": 6, "pattern": CODE_PATTERN})
class CodeField(StrictCharField):
    def __init__(self, **kwargs):
        super().__init__(error_messages={"invalid": _("Enter the 6-digit code from the SMS.")}, **kwargs)
        self.validators.append(RegexValidator(CODE_PATTERN, message=self.error_messages["invalid"]))


class PasswordField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("min_length", 1)
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class RegisterSerializer(serializers.Serializer):
    phone = PhoneField()
    password = PasswordField()
    first_name = StrictCharField(min_length=1, max_length=150)
    last_name = StrictCharField(min_length=1, max_length=150)
    address = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class PhoneSerializer(serializers.Serializer):
    phone = PhoneField()


class ResendSerializer(serializers.Serializer):
    phone = PhoneField()
    purpose = serializers.ChoiceField(
        choices=[CodePurpose.REGISTER, CodePurpose.PASSWORD_RESET], default=CodePurpose.REGISTER
    )


class VerifySerializer(serializers.Serializer):
    phone = PhoneField()
    code = CodeField()
    password = PasswordField(help_text=_("The password given at sign-up: it picks the sign-up the code confirms."))


class LoginSerializer(serializers.Serializer):
    phone = PhoneField()
    password = PasswordField()


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField(min_length=1, max_length=4096)


class PasswordResetSerializer(serializers.Serializer):
    phone = PhoneField()
    code = CodeField()
    password = PasswordField()


class PhoneChangeSerializer(serializers.Serializer):
    phone = PhoneField(help_text=_("The new number."))
    code = CodeField(required=False, help_text=_("Leave out to have a code sent; send it back to confirm."))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text=_("Bearer token for API calls; lives minutes."))
    refresh = serializers.CharField(help_text=_("Exchanged at refresh/ for a new pair; lives days."))


class CodeSentSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text=_("The number as stored: +998XXXXXXXXX."))
    expires_in = serializers.IntegerField(help_text=_("Seconds the code stays valid."))
    resend_in = serializers.IntegerField(help_text=_("Seconds before another code may be requested."))

    @staticmethod
    def for_phone(phone: str) -> dict:
        # The same body whether or not the number has an account.
        return {
            "phone": phone,
            "expires_in": int(settings.OTP_CODE_TTL.total_seconds()),
            "resend_in": int(settings.OTP_RESEND_COOLDOWN.total_seconds()),
        }


class MeSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    class Meta:
        model = User
        fields = ["id", "phone", "first_name", "last_name", "address", "role", "date_joined"]
        read_only_fields = ["id", "phone", "role", "date_joined"]
