"""Verify the stock ledger: exits 1 and lists every mismatch, 0 when the books balance.

Checks that each lot's quantity equals the sum of its movements, that the
``balance_after`` chain of each lot is unbroken and ends at its quantity, and
that each medicine's derived ``sellable_quantity`` / ``nearest_expiry`` match
its sellable lots today. A derived mismatch right after midnight usually means
the daily expiry sweep has not run yet; ``--fix-derived`` recomputes those
columns (it never touches quantities or movements: a ledger mismatch needs a
person to look at it).
"""

from django.core.management.base import BaseCommand, CommandError

from catalog.ledger import balance_chain_problems, derived_problems, lot_sum_problems
from catalog.stock import medicines_refresh_stock


class Command(BaseCommand):
    help = "Verify that every lot's quantity equals the sum of its stock movements (exit 1 on any mismatch)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fix-derived",
            action="store_true",
            help="Recompute medicines' sellable stock and nearest expiry where they disagree with their lots.",
        )
        parser.add_argument("--limit", type=int, default=200, help="Show at most this many problems (default 200).")

    def handle(self, *args, fix_derived: bool = False, limit: int = 200, **options):
        ledger = lot_sum_problems() + balance_chain_problems()
        derived = derived_problems()
        if fix_derived and derived:
            medicines_refresh_stock(medicine_ids=[p.object_id for p in derived])
            self.stdout.write(f"Recomputed the derived stock columns of {len(derived)} medicine(s).")
            derived = derived_problems(medicine_ids=[p.object_id for p in derived])
        problems = ledger + derived
        if not problems:
            self.stdout.write(self.style.SUCCESS("Stock ledger balances: every lot equals the sum of its movements."))
            return
        for problem in problems[:limit]:
            self.stderr.write(str(problem))
        if len(problems) > limit:
            self.stderr.write(f"... and {len(problems) - limit} more.")
        raise CommandError(
            f"{len(problems)} stock ledger problem(s): {len(ledger)} in lots and movements, "
            f"{len(derived)} in medicines' derived columns."
        )
