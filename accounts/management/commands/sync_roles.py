from django.core.management.base import BaseCommand

from accounts.exceptions import UnknownPermission
from accounts.services.staff import roles_sync


class Command(BaseCommand):
    help = "Make each staff role's group hold exactly the permissions listed in accounts/roles.py."

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict", action="store_true", help="Fail if the table names a permission that does not exist."
        )

    def handle(self, *args, strict: bool = False, **options):
        try:
            counts = roles_sync(strict=strict)
        except UnknownPermission as exc:
            self.stderr.write(str(exc))
            raise SystemExit(1) from exc
        for role, count in counts.items():
            self.stdout.write(f"{role}: {count} permissions")
