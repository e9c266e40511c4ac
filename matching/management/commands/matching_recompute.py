"""``manage.py matching_recompute``: recompute every seeker's recommended posts for the whole city, with a
progress bar (see matching/batch.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from matching.batch import recompute_city


class Command(BaseCommand):
    help = "Recompute recommendations (top posts per seeker) for the whole city."

    def add_arguments(self, parser):
        parser.add_argument(
            "--top", type=int, default=None, help="posts kept per seeker (default MATCHING_BATCH_TOP)"
        )
        parser.add_argument("--limit", type=int, default=None, help="stop after this many seekers (trials)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")

    def handle(self, *args, **options):
        if options["top"] is not None and not 1 <= options["top"] <= 100:
            raise CommandError("--top must be 1–100")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be ≥ 1")
        result = recompute_city(
            top=options["top"], progress=not options["no_progress"], limit=options["limit"]
        )
        self.stdout.write(
            f"已为 {result['workers']} 名求职者计算推荐：{result['suggestions']} 条（岗位 {result['posts']} 个），"
            f"用时 {result['seconds']} 秒（载入 {result['load_seconds']} 秒，排序写入 {result['rank_seconds']} 秒）"
        )
