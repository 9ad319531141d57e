from django.core.management.base import BaseCommand

from backoffice.media_archive import media_backup


class Command(BaseCommand):
    help = "Write all media and private files (local disk or S3) into one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="Path of the .tar.gz archive to write.")

    def handle(self, *args, output: str, **options):
        count = media_backup(output=output)
        self.stdout.write(self.style.SUCCESS(f"{count} file(s) written to {output}"))
