from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "岗位与订单"

    def ready(self) -> None:
        from accounts.signals import employer_suspended

        from . import services

        def take_posts_down(sender, employer, actor=None, **kwargs):
            services.posts_close_for_suspended_employer(employer=employer, actor=actor)

        employer_suspended.connect(
            take_posts_down, weak=False, dispatch_uid="jobs.posts_close_for_suspended_employer"
        )
