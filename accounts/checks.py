"""System checks of the accounts app's production configuration."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sms_gateway_is_real(app_configs, **kwargs):
    if settings.SMS_BACKEND == "console":
        return [
            Warning(
                "SMS_BACKEND is 'console': one-time codes are written to the log instead of being sent.",
                hint="Set SMS_BACKEND to 'eskiz' or 'playmobile' with the gateway's credentials.",
                id="accounts.W001",
            )
        ]
    return []
