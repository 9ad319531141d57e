"""Load the demo catalogue, places and stock from fixtures/ (``make run`` runs it on every start).

Idempotent: what already exists is left alone, and a second run only reads a
few keys and says so.
"""

import time

from django.core.management.base import BaseCommand

from catalog.demo import CATALOGUE_FILE, STOCK_FILE, load_demo
from catalog.models import Lot, Medicine, StockMovement
from catalog.stock import stock_locations


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (fixtures/catalogue.json) and replay its stock story in three places "
        "(fixtures/stock.json) through the stock services."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalogue", default=str(CATALOGUE_FILE), help="Catalogue JSON file.")
        parser.add_argument("--stock", default=str(STOCK_FILE), help="Stock JSON file.")

    def handle(self, *args, catalogue: str, stock: str, **options):
        started = time.perf_counter()
        result = load_demo(catalogue, stock)
        elapsed = time.perf_counter() - started
        if not result.created_anything:
            self.stdout.write(
                f"Demo data already loaded ({Medicine.objects.count()} medicines, {Lot.objects.count()} lots, "
                f"{stock_locations().count()} locations): nothing to do ({elapsed:.2f} s)."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {elapsed:.1f} s: {result.locations} locations, {result.categories} categories, "
                f"{result.manufacturers} manufacturers, {result.substances} substances, {result.medicines} medicines; "
                f"{result.lots} lots received, {result.transfers} transfers ({result.in_transit} in transit), "
                f"{result.sales} sales, {result.quarantined} lot(s) quarantined, {result.recalled} recalled, "
                f"{result.written_off} written off, {result.expired} expired by the sweep. "
                f"Ledger: {StockMovement.objects.count()} movements."
            )
        )
        if result.skipped_medicines:
            self.stderr.write(f"Stock for unknown SKUs skipped: {', '.join(result.skipped_medicines)}")
