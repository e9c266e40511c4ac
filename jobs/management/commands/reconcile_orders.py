"""Check every order against its rules (docs/money.md) and the ledger's invariants; list owed wages; exit
non-zero with a report on any breach (for cron, CI and the nightly Celery task's manual twin)."""

from django.core.management.base import BaseCommand, CommandError

from jobs.reconcile import owed_list, reconcile_orders


class Command(BaseCommand):
    help = "按规则对账：每单实付不超过约定、已结束岗位无托管、欠薪列表、保单与订单一致（含账本不变量）"

    def handle(self, *args, **options):
        owed = owed_list()
        for item in owed:
            self.stdout.write(
                f"欠薪 订单{item.order_id} {item.employer} 欠 {item.owed_fen / 100:.2f} 元"
                f"（{item.completed_at:%Y-%m-%d %H:%M} 完工）"
            )
        problems = reconcile_orders()
        if problems:
            for problem in problems:
                self.stderr.write(f"[{problem.check}] {problem.detail}")
            raise CommandError(f"按规则对账发现 {len(problems)} 个问题")
        self.stdout.write(self.style.SUCCESS(f"按规则对账通过：所有订单与规则一致；欠薪 {len(owed)} 单"))
