from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "纠纷调解"

    def ready(self) -> None:
        from core.console import StaffQueue, register_queue

        def unassigned(*, user) -> int:
            from .selectors import unassigned_count

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
