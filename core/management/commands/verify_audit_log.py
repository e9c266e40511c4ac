"""``manage.py verify_audit_log``: check the audit log's hash chain; exit 1 naming the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from core.selectors import audit_chain_check


class Command(BaseCommand):
    help = "检查审计日志的摘要链：任何一条被改动、删除或插入都会被发现"

    def handle(self, *args, **options):
        report = audit_chain_check()
        if report.broken_at is not None:
            raise CommandError(
                f"审计日志在编号 {report.broken_at} 处断开：{report.problem}；此前 {report.rows} 条完好"
            )
        self.stdout.write(f"审计日志完好：{report.rows} 条，链头摘要 {report.head or '（空）'}")
