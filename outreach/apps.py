from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "回访与培训"

    def ready(self) -> None:
        from core.console import StaffQueue, register_queue

        def due(*, user) -> int:
            from .selectors import followups_due_count

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
