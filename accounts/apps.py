from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账户与实名"

    def ready(self) -> None:
        from core.console import StaffQueue, register_queue, scoped

        from . import second_factor  # noqa: F401 (connects the staff login signal)
        from .models import Certificate, Employer, RealName, User

        # Counts are cut to the staff member's service points (core.console.scoped) through the point the
        # row belongs to: the applicant's registration point, or the employer's.
        def pending(model, field):
            return lambda *, user: scoped(
                model.objects.filter(status=model.Status.PENDING), user=user, field=field
            ).count()

        def assisted_unconfirmed(*, user):
            rows = User.objects.filter(is_active=False, registered_by__isnull=False)
            return scoped(rows, user=user, field="service_point").count()

        for order, (key, label, model, query, count) in enumerate(
            [
                (
                    "realnames",
                    "待审核实名认证",
                    "realname",
                    "status__exact=pending",
                    pending(RealName, "user__service_point"),
                ),
                (
                    "employers",
                    "待审核用工主体",
                    "employer",
                    "status__exact=pending",
                    pending(Employer, "service_point"),
                ),
                (
                    "certificates",
                    "待审核职业证书",
                    "certificate",
                    "status__exact=pending",
                    pending(Certificate, "user__service_point"),
                ),
                (
                    "assisted_unconfirmed",
                    "代注册待本人确认",
                    "user",
                    "assisted=unconfirmed",
                    assisted_unconfirmed,
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
