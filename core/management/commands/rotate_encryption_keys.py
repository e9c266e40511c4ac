"""``manage.py rotate_encryption_keys``: re-encrypt every encrypted field under the first key of
GIGMARKET_FIELD_ENCRYPTION_KEYS (see core/rotation.py). Safe to run again."""

from django.core.management.base import BaseCommand

from core.rotation import rotate_keys


class Command(BaseCommand):
    help = "用 GIGMARKET_FIELD_ENCRYPTION_KEYS 的第一个密钥重新加密所有加密字段（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        for report in rotate_keys(batch_size=options["batch_size"]):
            self.stdout.write(f"{report.label}: {report.rows} 行，重新加密 {report.rotated} 行")
        self.stdout.write(self.style.SUCCESS("完成：旧密钥可以在确认后移除"))
