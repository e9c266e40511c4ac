from django.apps import AppConfig

from core.console import StaffAction, StaffQueue, register_action, register_queue
from core.scoping import scope_by_point


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "纠纷调解"

    def ready(self) -> None:
        _register_scopes()
        register_action(
            StaffAction(
                key="disputes_oral",
                label="口头投诉登记",
                hint="来访者当面讲述的欠薪、纠纷",
                permissions=("disputes.accept_case",),
                url_name="disputes:staff_oral",
                order=30,
            )
        )
        register_action(
            StaffAction(
                key="disputes_cases",
                label="纠纷案件",
                permissions=("disputes.accept_case",),
                url_name="disputes:staff_cases",
                order=31,
            )
        )

        def unassigned(*, user) -> int:
            from .selectors import unassigned_count  # after the apps registry loads

            return unassigned_count(user=user)

        register_queue(
            StaffQueue(
                key="disputes_unassigned",
                label="待分派的纠纷",
                permissions=("disputes.accept_case",),
                url_name="disputes:staff_cases",
                query="status=filed",
                count=unassigned,
                order=40,
            )
        )


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a case is its accepting point's (受理网点); everything on it follows."""
    from .models import (  # after the apps registry loads
        Agreement,
        Case,
        CaseEvent,
        Evidence,
        Extension,
        PrivateNote,
        Recovery,
        Session,
        Transfer,
    )

    scope_by_point(Case, "service_point")
    for model in (Agreement, CaseEvent, Evidence, Extension, PrivateNote, Recovery, Session, Transfer):
        scope_by_point(model, "case__service_point")
