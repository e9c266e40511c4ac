"""``manage.py backup [--dir DIR]``: the database (pg_dump custom format) and the uploads (tar.gz)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import backup_create


class Command(BaseCommand):
    help = "备份数据库（pg_dump 自定义格式）和上传文件（tar.gz）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default="backups", help="写入的目录（默认 ./backups）")

    def handle(self, *args, **options):
        try:
            made = backup_create(directory=Path(options["dir"]))
        except Exception as exc:
            raise CommandError(f"备份失败：{type(exc).__name__}") from exc
        self.stdout.write(f"数据库：{made.database}\n上传文件：{made.media}")
