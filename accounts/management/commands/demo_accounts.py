"""Create (or refresh) one demo staff account per role, put it at its places and print how to log in.

Only for the development environment: `make run` calls it after `load_demo`,
which creates the places. Each account gets a known authenticator key, so a
newcomer can add it to an authenticator app, or simply ask for the current
code with `make otp PHONE=...`.
"""

import base64
import hashlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.phone import format_phone, normalize_phone
from accounts.roles import Role
from accounts.services.staff import backup_codes_issue
from catalog.models import Location

DEMO_PASSWORD = "Dorixona-demo-2026"
DEMO_ACCOUNTS = [
    # phone, role, first name, last name, codes of the places they work at (fixtures/stock.json)
    ("+998901000001", Role.ADMIN, "Aziza", "Karimova", ()),  # a superuser: every place
    ("+998901000002", Role.PHARMACIST, "Bobur", "Rahimov", ("chilonzor",)),
    ("+998901000003", Role.OPERATOR, "Dilnoza", "Yusupova", ("chilonzor", "yunusobod")),
    ("+998901000004", Role.INVENTORY, "Sherzod", "Toshmatov", ("markaziy-ombor", "yunusobod")),
    # A pharmacist at each branch: the demo's sales (orders.demo) are made at their tills.
    ("+998901000005", Role.PHARMACIST, "Malika", "Saidova", ("yunusobod",)),
]


def demo_key(phone: str) -> str:
    """A stable 20-byte TOTP key per demo phone (hex, as django-otp stores it)."""
    return hashlib.sha1(f"dorixona-demo:{phone}".encode()).hexdigest()


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


class Command(BaseCommand):
    help = "Create one demo staff account per role (development only) and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--code", metavar="PHONE", help="Only print the current authenticator code of PHONE.")
        parser.add_argument("--site", default="http://127.0.0.1:8000/", help="Where the server answers.")

    def handle(self, *args, code: str | None = None, site: str = "http://127.0.0.1:8000/", **options):
        if settings.ENVIRONMENT == "production":
            raise CommandError("Demo accounts are never created in production.")
        if code:
            phone = normalize_phone(code)
            device = TOTPDevice.objects.filter(user__phone=phone, confirmed=True).first()
            if device is None:
                raise CommandError(f"{phone} has no authenticator.")
            self.stdout.write(current_code(device))
            return

        lines, workplaces = [], []
        codes = {code for *_rest, place_codes in DEMO_ACCOUNTS for code in place_codes}
        places = {place.code: place for place in Location.objects.filter(code__in=codes)}
        if codes - set(places):
            self.stderr.write(
                f"No location {', '.join(sorted(codes - set(places)))} yet (manage.py load_demo creates them): "
                "the demo accounts work only at the places that exist."
            )
        with transaction.atomic():
            for phone, role, first_name, last_name, place_codes in DEMO_ACCOUNTS:
                user, _created = User.objects.get_or_create(
                    phone=phone, defaults={"role": role, "first_name": first_name, "last_name": last_name}
                )
                user.role, user.is_active = role, True
                user.set_password(DEMO_PASSWORD)
                user.save()
                works_at = [places[code] for code in place_codes if code in places]
                user.locations.set(works_at)
                if user.is_superuser:
                    where = "every place"
                else:
                    where = ", ".join(place.name for place in works_at) or "no place yet"
                workplaces.append((role.label, user.get_full_name(), where))
                device, _created = TOTPDevice.objects.update_or_create(
                    user=user, name="Demo authenticator", defaults={"key": demo_key(phone), "confirmed": True}
                )
                backup = backup_codes_issue(user=user, count=1)[0]
                secret = base64.b32encode(device.bin_key).decode().rstrip("=")
                lines.append((role.label, format_phone(phone), secret, current_code(device), backup))

        host = site.rstrip("/") + "/" + settings.ADMIN_URL
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS(f"Dorixona admin: {host}"))
        out(f"Password for every demo account: {DEMO_PASSWORD}")
        out("Second factor: the current code (make otp PHONE=<phone>), a code from an authenticator app")
        out("set up with the key below, or the one-time backup code.")
        out("")
        out(f"{'role':<16} {'phone':<20} {'authenticator key':<34} {'code now':<9} backup code")
        for role_label, phone, secret, code_now, backup in lines:
            out(f"{str(role_label):<16} {phone:<20} {secret:<34} {code_now:<9} {backup}")
        out("")
        out("Where each one works:")
        for role_label, name, where in workplaces:
            out(f"{str(role_label):<16} {name:<20} {where}")
        out("")
