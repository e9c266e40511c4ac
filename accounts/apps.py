from django.apps import AppConfig
from django.db.models import Q

from core.console import StaffAction, StaffQueue, register_action, register_queue, scoped
from core.scoping import point_tree_register, scope_by_point, scope_global


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账户与实名"

    def ready(self) -> None:
        # Models and what imports them load here, once the apps registry is ready (not at the top).
        from . import second_factor  # noqa: F401 (connects the staff login signal)
        from .models import Certificate, Employer, RealName, User  # (apps registry: see above)
        from .selectors import sees_every_point, service_points_visible_to  # (apps registry: see above)

        point_tree_register(
            sees_every_point=sees_every_point, service_points_visible_to=service_points_visible_to
        )
        _register_scopes()
        register_action(
            StaffAction(
                key="assisted_register",
                label="代注册",
                hint="为来办事的村民开通账户（短信验证码确认）",
                permissions=("accounts.register_on_behalf",),
                url_name="accounts:assisted_register",
                order=10,
            )
        )

        # Counts are cut to the staff member's service points exactly as the lists are (core.scoping): the
        # applicant's registration point, or the employer's.
        def pending(model):
            return lambda *, user: scoped(
                model.objects.filter(status=model.Status.PENDING), user=user
            ).count()

        def assisted_unconfirmed(*, user):
            rows = User.objects.filter(is_active=False, registered_by__isnull=False)
            return scoped(rows, user=user).count()

        for order, (key, label, model, query, count) in enumerate(
            [
                (
                    "realnames",
                    "待审核实名认证",
                    "realname",
                    "status__exact=pending",
                    pending(RealName),
                ),
                (
                    "employers",
                    "待审核用工主体",
                    "employer",
                    "status__exact=pending",
                    pending(Employer),
                ),
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


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a user is their point's (staff: where they work; a seeker: where they
    were registered, the district market for online sign-ups); an employer is its registration point's;
    everything of a user follows the user."""
    from .models import (  # in ready(): models load after the apps registry, not at the top
        Area,
        Certificate,
        CertificateType,
        Employer,
        EmployerMember,
        IdCardPhoto,
        RealName,
        ReviewEvent,
        ServicePoint,
        User,
        WorkerProfile,
    )

    scope_by_point(User, "service_point")
    scope_by_point(Employer, "service_point")
    scope_by_point(EmployerMember, "employer__service_point")
    for model in (RealName, Certificate, WorkerProfile):
        scope_by_point(model, "user__service_point")
    scope_by_point(IdCardPhoto, "realname__user__service_point")
    scope_by_point(ServicePoint, "pk")

    def review_events(points) -> Q:
        subjects = {
            ReviewEvent.Subject.REALNAME: RealName.objects.filter(user__service_point__in=points),
            ReviewEvent.Subject.EMPLOYER: Employer.objects.filter(service_point__in=points),
            ReviewEvent.Subject.CERTIFICATE: Certificate.objects.filter(user__service_point__in=points),
            ReviewEvent.Subject.ACCOUNT: User.objects.filter(service_point__in=points),
        }
        condition = Q(pk__in=[])
        for subject, rows in subjects.items():
            condition |= Q(subject=subject, object_id__in=rows.values("pk"))
        return condition

    scope_by_point(ReviewEvent, build=review_events)
    scope_global(Area, reason="administrative areas: public geography")
    scope_global(CertificateType, reason="kinds of certificate: reference data")
