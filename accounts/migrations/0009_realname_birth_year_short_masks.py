"""Keep the birth year, not the birth date, and mask ID and certificate numbers to their first and last
character: first 4 + last 4 beside a plain birth date rebuilt an ID to 1–3 candidates.

The masks are recomputed from the decrypted numbers (the historical models keep the encrypted field)."""

from django.db import migrations, models


def _mask(value: str) -> str:
    # Frozen copy of core.masking.mask_id_number as of this migration.
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def coarsen(apps, schema_editor):
    RealName = apps.get_model("accounts", "RealName")
    Certificate = apps.get_model("accounts", "Certificate")
    for record in RealName.objects.only("pk", "id_number", "birth_date").iterator():
        number = record.id_number
        RealName.objects.filter(pk=record.pk).update(
            birth_year=int(number[6:10]) if len(number) == 18 else record.birth_date.year,
            id_masked=_mask(number),
        )
    for cert in Certificate.objects.only("pk", "number").iterator():
        Certificate.objects.filter(pk=cert.pk).update(number_masked=_mask(cert.number))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_upload_server_names")]

    operations = [
        migrations.AddField(
            model_name="realname",
            name="birth_year",
            field=models.PositiveSmallIntegerField(null=True, verbose_name="出生年份"),
        ),
        migrations.RunPython(coarsen, migrations.RunPython.noop),
    ]
