"""Run every alert scan now, in this process, and print what was found (demo, cron users)."""

from django.core.management.base import BaseCommand

from tasks import services
from tasks.models import AlertKind


class Command(BaseCommand):
    help = "Run the expired-lot sweep, the expiry scan and the low-stock scan synchronously; optionally notify."

    def add_arguments(self, parser):
        parser.add_argument("--no-sweep", action="store_true", help="Do not move lots past their date to expired.")
        parser.add_argument("--notify", action="store_true", help="Also send new critical alerts on every channel.")

    def handle(self, *args, **options):
        if not options["no_sweep"]:
            try:
                expired = services.lots_sweep_expired()
            except ImportError:
                self.stderr.write("The catalogue's lots_expire service is not available: sweep skipped.")
            else:
                self.stdout.write(f"Sweep: {expired} lot(s) moved to expired.")
        for result in (services.alerts_scan_expiry(), services.alerts_scan_low_stock()):
            open_text = (
                ", ".join(f"{AlertKind(kind).label}: {count}" for kind, count in sorted(result.open_by_kind.items()))
                or "none"
            )
            self.stdout.write(
                f"{result.scan.capitalize()} scan: {result.created} new, {result.resolved} resolved; open: {open_text}"
            )
        if options["notify"]:
            outcome = services.alerts_notify()
            self.stdout.write(f"Notifications: {outcome.sent} sent, {outcome.failed} failed.")
