"""Staff scoping: the permission to unmask a phone (audited), and a service point for every account and
employer that had none (online sign-ups and applications belong to the district market, which runs the
online channel; an employer first follows the account that applied)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def _root(ServicePoint):
    return (
        ServicePoint.objects.filter(kind="district_market", parent__isnull=True, is_active=True)
        .order_by("pk")
        .first()
    )


def backfill(apps, schema_editor):
    ServicePoint = apps.get_model("accounts", "ServicePoint")
    User = apps.get_model("accounts", "User")
    Employer = apps.get_model("accounts", "Employer")
    # Staff without a point stay without one: they see nothing until a superuser places them.
    root = _root(ServicePoint)
    Employer.objects.filter(service_point__isnull=True).update(
        service_point_id=Subquery(User.objects.filter(pk=OuterRef("created_by_id")).values("service_point_id")[:1])
    )
    if root is not None:
        User.objects.filter(service_point__isnull=True, is_staff=False, is_superuser=False).update(
            service_point=root
        )
        Employer.objects.filter(service_point__isnull=True).update(service_point=root)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_session_epoch"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [("register_on_behalf", "可代注册"), ("view_full_phone", "可查看完整手机号")],
                "verbose_name": "用户",
                "verbose_name_plural": "用户",
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
