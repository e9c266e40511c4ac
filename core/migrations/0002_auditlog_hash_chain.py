"""Chain the audit log: each row gets the previous row's hash and its own; rows already written are
chained in the order they were appended (by id)."""

from django.db import migrations, models
from django.utils import timezone


def chain_existing(apps, schema_editor):
    from core.models import GENESIS_HASH, chain_hash

    AuditLog = apps.get_model("core", "AuditLog")
    prev = GENESIS_HASH
    for entry in AuditLog.objects.order_by("pk").iterator():
        entry.prev_hash = prev
        entry.row_hash = chain_hash(entry)
        AuditLog.objects.filter(pk=entry.pk).update(prev_hash=entry.prev_hash, row_hash=entry.row_hash)
        prev = entry.row_hash


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="上一条摘要"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="本条摘要"),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=timezone.now, verbose_name="时间"),
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="action",
            field=models.CharField(
                choices=[
                    ("unmask_id", "查看完整证件号"),
                    ("unmask_contact", "查看当事人联系方式"),
                    ("decision", "审核决定"),
                    ("assisted_registration", "代注册"),
                    ("bulk_import_registration", "批量导入代注册"),
                    ("bulk_import_villagers", "批量导入村民"),
                    ("bulk_import_posts", "批量代发岗位"),
                ],
                max_length=40,
                verbose_name="操作",
            ),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
