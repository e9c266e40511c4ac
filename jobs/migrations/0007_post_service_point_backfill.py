"""Staff scoping: every post belongs to a service point — the point of the staff member who posted it on
behalf of a walk-in employer, else the employer's point, else the district market."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    ServicePoint = apps.get_model("accounts", "ServicePoint")
    User = apps.get_model("accounts", "User")
    Employer = apps.get_model("accounts", "Employer")
    Post = apps.get_model("jobs", "Post")
    Post.objects.filter(service_point__isnull=True, on_behalf_by__isnull=False).update(
        service_point_id=Subquery(User.objects.filter(pk=OuterRef("on_behalf_by_id")).values("service_point_id")[:1])
    )
    Post.objects.filter(service_point__isnull=True).update(
        service_point_id=Subquery(Employer.objects.filter(pk=OuterRef("employer_id")).values("service_point_id")[:1])
    )
    root = (
        ServicePoint.objects.filter(kind="district_market", parent__isnull=True, is_active=True)
        .order_by("pk")
        .first()
    )
    if root is not None:
        Post.objects.filter(service_point__isnull=True).update(service_point=root)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_view_full_phone_and_point_backfill"),
        ("jobs", "0006_post_search_vector"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
