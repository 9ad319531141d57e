"""Create the periodic schedules of tasks/schedules.py (they are also created after every migrate)."""

from django.core.management.base import BaseCommand

from tasks.schedules import SCHEDULES, schedules_ensure


class Command(BaseCommand):
    help = "Create missing periodic task schedules; --reset restores every default, undoing admin edits."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true")

    def handle(self, *args, **options):
        written = schedules_ensure(reset=options["reset"])
        for schedule in SCHEDULES:
            state = "written" if schedule.name in written else "kept"
            self.stdout.write(f"{schedule.name:<26} {schedule.task:<30} {state:<8} {schedule.description}")
