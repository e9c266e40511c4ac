"""Keeping :class:`~matching.models.WorkerIndex` current: one seeker at a time from signals, or the whole
table in one SQL statement (nightly, and after bulk loads)."""

from __future__ import annotations

from django.db import connection, transaction

from accounts.models import Area, WorkerProfile

from .models import WorkerIndex


def _town(area: Area | None) -> int | None:
    if area is None:
        return None
    if area.level == Area.Level.VILLAGE:
        return area.parent_id
    return area.pk if area.level == Area.Level.STREET else None


@transaction.atomic
def worker_index_refresh(*, user_id: int) -> int:
    WorkerIndex.objects.filter(user_id=user_id).delete()
    profile = WorkerProfile.objects.select_related("area").filter(user_id=user_id).first()
    if profile is None:
        return 0
    rows = [
        WorkerIndex(
            user_id=user_id,
            trade_id=trade_id,
            area_id=profile.area_id,
            town_id=_town(profile.area),
            lat=float(profile.lat) if profile.lat is not None else None,
            lng=float(profile.lng) if profile.lng is not None else None,
        )
        for trade_id in profile.wanted_trades.values_list("pk", flat=True)
    ]
    WorkerIndex.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def worker_index_rebuild() -> int:
    """The whole index from the profiles, in the database."""
    index = WorkerIndex._meta.db_table
    profile = WorkerProfile._meta.db_table
    through = WorkerProfile.wanted_trades.through._meta.db_table
    area = Area._meta.db_table
    # Table names come from the models' meta, never from input.
    sql = (
        f"INSERT INTO {index} (user_id, trade_id, area_id, town_id, lat, lng) "  # noqa: S608
        "SELECT p.user_id, t.trade_id, p.area_id, "
        "CASE WHEN a.level = 'village' THEN a.parent_id WHEN a.level = 'street' THEN a.id END, "
        "CAST(p.lat AS DOUBLE PRECISION), CAST(p.lng AS DOUBLE PRECISION) "
        f"FROM {profile} p JOIN {through} t ON t.workerprofile_id = p.id "
        f"LEFT JOIN {area} a ON a.id = p.area_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {index}")  # noqa: S608
        cursor.execute(sql)
        count = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {index}")  # fresh statistics, or the planner guesses from the old table
    return count
