from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账户与实名"

    def ready(self) -> None:
        from core.console import StaffQueue, register_queue

        from .models import Certificate, Employer, RealName, User

        def pending(model):
            return lambda *, user: model.objects.filter(status=model.Status.PENDING).count()

        for order, (key, label, model, query, count) in enumerate(
            [
                ("realnames", "待审核实名认证", "realname", "status__exact=pending", pending(RealName)),
                ("employers", "待审核用工主体", "employer", "status__exact=pending", pending(Employer)),
                (
                    "certificates",
                    "待审核职业证书",
                    "certificate",
                    "status__exact=pending",
                    pending(Certificate),
                ),
                (
                    "assisted_unconfirmed",
                    "代注册待本人确认",
                    "user",
                    "assisted=unconfirmed",
                    lambda *, user: User.objects.filter(is_active=False, registered_by__isnull=False).count(),
                ),
            ]
        ):
            register_queue(
                StaffQueue(
                    key=key,
                    label=label,
                    permissions=(f"accounts.view_{model}", f"accounts.change_{model}"),
                    url_name=f"admin:accounts_{model}_changelist",
                    query=query,
                    count=count,
                    order=order,
                )
            )
