"""In-app messages written before delivery states existed were left "pending"; the inbox now shows
delivered ones only, so they become "sent" (at their creation time)."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    Message = apps.get_model("notifications", "Message")
    Message.objects.filter(channel="inapp", status="pending", send_after__isnull=True).update(
        status="sent", sent_at=F("created_at"), backend="inapp"
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_preferences_and_delivery")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
