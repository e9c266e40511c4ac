"""Check every ledger invariant; exit non-zero with a report when any fails (for cron and CI)."""

from django.core.management.base import BaseCommand, CommandError

from wallet.selectors import reconcile


class Command(BaseCommand):
    help = "核对账本：借贷平衡、余额等于分录合计、无负余额、已结束订单托管为零"

    def handle(self, *args, **options):
        problems = reconcile()
        if problems:
            for problem in problems:
                self.stderr.write(f"[{problem.check}] {problem.detail}")
            raise CommandError(f"对账发现 {len(problems)} 个问题")
        self.stdout.write(self.style.SUCCESS("对账通过：所有不变量成立"))
