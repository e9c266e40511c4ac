"""The 6 digits a demo staff account's authenticator shows now, for trying the platform without an
authenticator app. Only for the demo logins seed_demo prints, and only while they still have the demo
authenticator (a device enrolled by hand is never read)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import demo_data as D


class Command(BaseCommand):
    help = "演示账号（工作人员、调解员）身份验证器当前的6位数字"

    def add_arguments(self, parser):
        parser.add_argument("phone", help="seed_demo 打印的演示手机号，如 13500000001")

    def handle(self, *args, phone: str, **options):
        if phone not in {login.phone for login in D.DEMO_LOGINS}:
            raise CommandError("只能查看 seed_demo 打印的演示账号")
        device = TOTPDevice.objects.filter(
            user__phone=phone, confirmed=True, key=D.demo_totp_key(phone)
        ).first()
        if device is None:
            raise CommandError("该账号没有演示身份验证器（不是工作人员或调解员，或已自行绑定、已重置）")
        self.stdout.write(f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}")
