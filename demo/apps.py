from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo city (青溪市): seeds every area of the platform for `scripts/run`, benchmarks and trials.
    The top layer: it may import every app, and no app imports it."""

    name = "demo"
    verbose_name = "演示城市"
