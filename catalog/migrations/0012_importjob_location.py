import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_movement_location_required")]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="location",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalog.location",
                verbose_name="location",
            ),
        ),
    ]
