import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0010_stock_in_main_location")]

    operations = [
        migrations.AlterField(
            model_name="stockmovement",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="catalog.location",
                verbose_name="location",
            ),
        ),
    ]
