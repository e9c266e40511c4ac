"""API tokens of staff, superusers and mediators issued before the second factor existed end: from now on a
staff token comes only from a login that checked the authenticator (accounts.api.LoginView)."""

from django.db import migrations
from django.db.models import Q


def end_staff_tokens(apps, schema_editor):
    AuthToken = apps.get_model("knox", "AuthToken")
    AuthToken.objects.filter(
        Q(user__is_staff=True) | Q(user__is_superuser=True) | Q(user__role__in=["staff", "mediator"])
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_second_factor_reset_at"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(end_staff_tokens, migrations.RunPython.noop)]
