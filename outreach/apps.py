from django.apps import AppConfig

from core.console import StaffQueue, register_queue
from core.scoping import scope_by_point, scope_global


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "回访与培训"

    def ready(self) -> None:
        _register_scopes()

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
