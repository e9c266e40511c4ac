"""One-time codes leave the outbox rows: ``params`` and ``body`` keep them redacted, the code of a message
still waiting to be sent moves into the encrypted ``secret`` column (for the gateway only), and every code
already sent (or failed) is simply gone."""

import datetime as dt
import json

import core.crypto
from django.conf import settings
from django.db import migrations, models


CODE_TEMPLATES = ("phone_code", "assisted_registration")
REDACTED = "******"


def redact_codes(apps, schema_editor):
    Message = apps.get_model("notifications", "Message")
    rows = Message.objects.filter(template__in=CODE_TEMPLATES, params__has_key="code")
    for message in rows.iterator(chunk_size=500):
        code = str(message.params.pop("code"))
        message.body = message.body.replace(code, REDACTED)
        if message.status in ("pending", "sending"):
            message.secret = json.dumps({"code": code})
            message.secret_until = message.created_at + dt.timedelta(minutes=5)
        message.save(update_fields=["params", "body", "secret", "secret_until"])


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_inapp_delivered'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='secret',
            field=core.crypto.EncryptedTextField(blank=True, default='', editable=False, verbose_name='保密参数'),
        ),
        migrations.AddField(
            model_name='message',
            name='secret_until',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='保密参数有效期至'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('secret', ''), _negated=True), fields=['secret_until'], name='message_secret_live'),
        ),
        migrations.RunPython(redact_codes, migrations.RunPython.noop),
    ]
