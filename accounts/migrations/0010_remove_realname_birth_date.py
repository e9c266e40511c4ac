"""The birth date column goes once 0004 has copied its year (a separate migration: PostgreSQL refuses to
ALTER a table with pending trigger events in the transaction that updated it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_realname_birth_year_short_masks")]

    operations = [
        migrations.RemoveField(model_name="realname", name="birth_date"),
        migrations.AlterField(
            model_name="realname",
            name="birth_year",
            field=models.PositiveSmallIntegerField(verbose_name="出生年份"),
        ),
    ]
