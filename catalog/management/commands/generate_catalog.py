"""A synthetic catalogue for benchmarks.

``manage.py generate_catalog --medicines 100000 --lots-per-medicine 2 --locations 10``: 200,000 lots standing
at 10 places, 2,000,000 lot stocks with a receipt each.
"""

from django.core.management.base import BaseCommand, CommandError

from catalog.synthetic import SKU_PREFIX, generate


class Command(BaseCommand):
    help = (
        "Generate a synthetic catalogue (medicines built from substances, forms and strengths; lots standing at "
        "every location, with a receipt there each) for benchmarks. The stock core writes the stock and its "
        "derived columns; the search column is filled."
    )

    def add_arguments(self, parser):
        parser.add_argument("--medicines", type=int, default=1000, help="How many medicines (default 1000).")
        parser.add_argument("--lots-per-medicine", type=int, default=3, help="Lots per medicine (default 3).")
        parser.add_argument(
            "--locations",
            type=int,
            default=1,
            help="Locations every lot stands at (default 1, 'Main pharmacy'; more: a central warehouse and "
            "branches in Tashkent's districts).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the whole catalogue first (every medicine, lot and movement)."
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per INSERT (default 5000).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args, medicines, lots_per_medicine, locations, seed, reset, batch_size, no_progress, **options):
        if medicines < 1 or lots_per_medicine < 0 or batch_size < 1 or locations < 1:
            raise CommandError(
                "--medicines, --locations and --batch-size must be at least 1, --lots-per-medicine at least 0."
            )
        from catalog.models import Medicine

        if not reset and Medicine.objects.filter(sku__startswith=SKU_PREFIX).exists():
            self.stdout.write("A synthetic catalogue exists already: adding to it (use --reset to start over).")
        result = generate(
            medicines=medicines,
            lots_per_medicine=lots_per_medicine,
            locations=locations,
            seed=seed,
            reset=reset,
            progress=not no_progress and options.get("verbosity", 1) > 0,
            batch_size=batch_size,
            log=lambda message: self.stdout.write(message) if options.get("verbosity", 1) > 0 else None,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {result.medicines:,} medicines, {result.lots:,} lots at {result.locations} locations and "
                f"{result.movements:,} receipt movements in {result.seconds:.1f} s "
                f"({result.manufacturers} manufacturers, {result.substances} substances, "
                f"{result.categories} categories)."
            )
        )
