"""``manage.py restore_backup DUMP --database NEW [--media TAR --media-root DIR]``: a backup into a new
database (never over an existing one), for a drill or a recovery; then point GIGMARKET_DATABASE_URL at it
and run ``manage.py reconcile_ledger``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backup import backup_restore


class Command(BaseCommand):
    help = "把备份恢复到一个新数据库（不会覆盖已有数据库）"

    def add_arguments(self, parser):
        parser.add_argument("dump", help="manage.py backup 生成的 .dump 文件")
        parser.add_argument("--database", required=True, help="新数据库名（小写字母、数字、下划线）")
        parser.add_argument("--media", help="manage.py backup 生成的 -media.tar.gz")
        parser.add_argument("--media-root", help="上传文件恢复到的目录（须为空）")

    def handle(self, *args, **options):
        try:
            backup_restore(
                dump=Path(options["dump"]),
                database=options["database"],
                media=Path(options["media"]) if options["media"] else None,
                media_root=Path(options["media_root"]) if options["media_root"] else None,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已恢复到数据库 {options['database']}"))
