"""The default premium table: 3–10 yuan per order by risk class, cover up to 1,000,000 yuan."""

from django.db import migrations

PREMIUMS = {1: 300, 2: 400, 3: 500, 4: 600, 5: 800, 6: 1000}


def seed(apps, schema_editor):
    PremiumRate = apps.get_model("insurance", "PremiumRate")
    for risk_class, premium in PREMIUMS.items():
        PremiumRate.objects.get_or_create(
            risk_class=risk_class, defaults={"premium_fen": premium, "cover_fen": 1_000_000_00}
        )


class Migration(migrations.Migration):
    dependencies = [("insurance", "0001_policies")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
