from django.core.management.base import BaseCommand

from backoffice.media_archive import media_restore


class Command(BaseCommand):
    help = "Put every file of a media_backup archive back into the configured storages."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, dest="source", help="Path of the .tar.gz archive to read.")

    def handle(self, *args, source: str, **options):
        count = media_restore(source=source)
        self.stdout.write(self.style.SUCCESS(f"{count} file(s) restored from {source}"))
