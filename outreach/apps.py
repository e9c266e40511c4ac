from django.apps import AppConfig

from core.console import StaffAction, StaffQueue, register_action, register_queue
from core.scoping import scope_by_point, scope_global


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "回访与培训"

    def ready(self) -> None:
        _register_scopes()
        for action in (
            StaffAction(
                key="outreach_followups",
                label="回访电话",
                permissions=("outreach.view_followup",),
                url_name="outreach:staff_followups",
                order=40,
            ),
            StaffAction(
                key="outreach_trainings",
                label="培训签到与结业",
                permissions=("outreach.view_course",),
                url_name="outreach:staff_courses",
                order=41,
            ),
            StaffAction(
                key="outreach_import",
                label="批量导入",
                hint="线下登记的村民、用工主体的岗位（Excel/CSV）",
                permissions=("accounts.register_on_behalf", "jobs.post_on_behalf"),
                url_name="outreach:import_upload",
                order=42,
            ),
        ):
            register_action(action)

        def due(*, user) -> int:
            from .selectors import followups_due_count  # after the apps registry loads

            return followups_due_count(user=user)

        register_queue(
            StaffQueue(
                key="outreach_followups",
                label="待回访",
                permissions=("outreach.change_followup",),
                url_name="outreach:staff_followups",
                count=due,
                order=40,
            )
        )


def _register_scopes() -> None:
    """Staff scoping (core.scoping): follow-ups, courses, training needs and imports carry their point."""
    from .models import (  # after the apps registry loads
        Article,
        Course,
        Enrollment,
        FollowUp,
        FollowUpCall,
        ImportBatch,
        TrainingNeed,
    )

    scope_global(Article, reason="policy and rights articles published to the whole city: no personal data")
    for model in (Course, FollowUp, ImportBatch):
        scope_by_point(model, "service_point")
    scope_by_point(FollowUpCall, "followup__service_point")
    scope_by_point(Enrollment, "course__service_point", "worker__service_point")
    scope_by_point(TrainingNeed, "service_point", "worker__service_point")
