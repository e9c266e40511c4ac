"""Staff scoping: every case belongs to a service point — the point that recorded it, else its post's (or
its order's post's), else the employer's, else the worker's, else the district market."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    ServicePoint = apps.get_model("accounts", "ServicePoint")
    User = apps.get_model("accounts", "User")
    Employer = apps.get_model("accounts", "Employer")
    Post = apps.get_model("jobs", "Post")
    Order = apps.get_model("jobs", "Order")
    Case = apps.get_model("disputes", "Case")
    sources = [
        ("recorded_by_id", User.objects.filter(pk=OuterRef("recorded_by_id")).values("service_point_id")),
        ("post_id", Post.objects.filter(pk=OuterRef("post_id")).values("service_point_id")),
        ("order_id", Order.objects.filter(pk=OuterRef("order_id")).values("post__service_point_id")),
        ("employer_id", Employer.objects.filter(pk=OuterRef("employer_id")).values("service_point_id")),
        ("worker_id", User.objects.filter(pk=OuterRef("worker_id")).values("service_point_id")),
    ]
    for column, points in sources:
        Case.objects.filter(service_point__isnull=True, **{f"{column}__isnull": False}).update(
            service_point_id=Subquery(points[:1])
        )
    root = (
        ServicePoint.objects.filter(kind="district_market", parent__isnull=True, is_active=True)
        .order_by("pk")
        .first()
    )
    if root is not None:
        Case.objects.filter(service_point__isnull=True).update(service_point=root)


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0001_initial"),
        ("jobs", "0007_post_service_point_backfill"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
