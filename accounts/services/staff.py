"""Every write of the accounts app: roles, staff second factor."""

import secrets
from collections.abc import Iterable

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..exceptions import UnknownPermission
from ..models import BackupCode, BackupCodeDevice, User
from ..roles import ROLE_PERMISSIONS, group_name

BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _wanted_permissions(table: dict[str, Iterable[str]], permission_model) -> tuple[list, list[str]]:
    by_key = {
        (p.content_type.app_label, p.content_type.model, p.codename): p
        for p in permission_model.objects.select_related("content_type")
    }
    found, missing = [], []
    for model_key, actions in table.items():
        app_label, model_name = model_key.split(".")
        for action in actions:
            codename = f"{action}_{model_name}" if action in {"view", "add", "change", "delete"} else action
            perm = by_key.get((app_label, model_name, codename))
            if perm is None:
                missing.append(f"{app_label}.{codename}")
            else:
                found.append(perm)
    return found, missing


@transaction.atomic
def roles_sync(*, apps: Apps = global_apps, strict: bool = False) -> dict[str, int]:
    """Make one group per staff role hold exactly the permissions of ``ROLE_PERMISSIONS``.

    Permissions of models not installed yet are skipped (they are added by the
    sync that runs after the migration creating them) unless ``strict``.
    Returns the number of permissions of each group.
    """
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    counts = {}
    for role, table in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=group_name(role))
        found, missing = _wanted_permissions(table, permission_model)
        if strict and missing:
            raise UnknownPermission(missing)
        group.permissions.set(found)
        counts[str(role)] = len(found)
    return counts


def _random_backup_code() -> str:
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def backup_codes_issue(*, user: User, count: int | None = None) -> list[str]:
    """Replace the user's backup codes with fresh ones; return them once, in clear."""
    from django.conf import settings

    count = count or settings.BACKUP_CODES_COUNT
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [_random_backup_code() for _ in range(count)]
    BackupCode.objects.bulk_create([BackupCode.hashed(device, code) for code in codes])
    return codes


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for enrolment; replaces any earlier unconfirmed one."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm enrolment when ``token`` is a current code of ``device``."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator per person: a new enrolment retires the old one.
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    return True


@transaction.atomic
def staff_devices_reset(*, user: User) -> int:
    """Remove every second-factor device of ``user``: they enrol again at next login."""
    deleted = TOTPDevice.objects.filter(user=user).delete()[0]
    deleted += BackupCodeDevice.objects.filter(user=user).delete()[0]
    return deleted


def user_has_confirmed_device(user: User) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or BackupCodeDevice.objects.filter(user=user, confirmed=True, codes__used_at__isnull=True).exists()
    )
