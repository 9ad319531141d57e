"""Load the demo: the catalogue, places and stock story (``catalog.demo``), then the story's sales made
at each branch's till (``orders.demo``). ``make run`` runs it on every start.

Here, not in ``catalog``, because it needs both: the catalogue does not depend on sales. The sales need a
demo pharmacist at each branch: when one is missing, the demo accounts are created first (``make run``
prints their logins afterwards).

Idempotent: what already exists is left alone, and a second run on the same day only reads a few keys
and says so (on a later day it closes the shifts left open and sells that day's sales; see ``orders.demo``).
"""

import io
import logging
import time
from contextlib import contextmanager

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from catalog.demo import CATALOGUE_FILE, STOCK_FILE, load_demo
from catalog.models import LocationKind, Lot, Medicine, StockMovement
from catalog.stock import stock_locations
from orders.demo import demo_pharmacist, demo_sales_replay
from orders.models import Order


def _ensure_pharmacists() -> str:
    """Create the demo accounts when a branch has no pharmacist yet; say why not if that is refused."""
    branches = stock_locations().filter(kind=LocationKind.BRANCH)
    if all(demo_pharmacist(branch) is not None for branch in branches):
        return ""
    try:
        call_command("demo_accounts", stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as error:
        return str(error)
    return ""


@contextmanager
def _quiet(*names: str):
    """The demo's hundreds of console fiscal receipts (and Celery's line per eager task) are not worth a
    screen each: keep their loggers to warnings while the sales are made."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (fixtures/catalogue.json), replay its stock story in three places "
        "(fixtures/stock.json) through the stock services, and sell the story's sales at each branch's "
        "till through the sales services."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalogue", default=str(CATALOGUE_FILE), help="Catalogue JSON file.")
        parser.add_argument("--stock", default=str(STOCK_FILE), help="Stock JSON file.")

    def handle(self, *args, catalogue: str, stock: str, **options):
        started = time.perf_counter()
        result = load_demo(catalogue, stock)
        refused = _ensure_pharmacists()
        with _quiet("orders.fiscal", "celery.app.trace"):
            sales = demo_sales_replay(stock_file=stock)
        elapsed = time.perf_counter() - started
        if refused:
            self.stderr.write(f"No demo sales: the demo accounts could not be created ({refused}).")
        if sales.branches_without_pharmacist:
            self.stderr.write(f"No pharmacist at {', '.join(sales.branches_without_pharmacist)}: nothing sold there.")
        if not result.created_anything and not sales.created_anything:
            self.stdout.write(
                f"Demo data already loaded ({Medicine.objects.count()} medicines, {Lot.objects.count()} lots, "
                f"{stock_locations().count()} locations, {Order.objects.count()} sales): "
                f"nothing to do ({elapsed:.2f} s)."
            )
            return
        if result.created_anything:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data loaded: {result.locations} locations, {result.categories} categories, "
                    f"{result.manufacturers} manufacturers, {result.substances} substances, "
                    f"{result.medicines} medicines; {result.lots} lots received, {result.transfers} transfers "
                    f"({result.in_transit} in transit), {result.quarantined} lot(s) quarantined, "
                    f"{result.recalled} recalled, {result.written_off} written off, "
                    f"{result.expired} expired by the sweep."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo sales at the counter: {sales.sales} receipts ({sales.lines} lines), {sales.returns} "
                f"return(s); {sales.shifts_opened} shift(s) opened, {sales.shifts_closed} closed with a Z-report"
                + (
                    f"; {sales.cut_lines} line(s) cut and {sales.dropped_lines} dropped for want of stock"
                    if sales.cut_lines or sales.dropped_lines
                    else ""
                )
                + f". Ledger: {StockMovement.objects.count()} movements. {elapsed:.1f} s."
            )
        )
        if result.skipped_medicines:
            self.stderr.write(f"Stock for unknown SKUs skipped: {', '.join(result.skipped_medicines)}")
