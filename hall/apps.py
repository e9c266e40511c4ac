from django.apps import AppConfig

from core.scoping import scope_by_point, scope_district_only, scope_global


class HallConfig(AppConfig):
    name = "hall"
    verbose_name = "零工大厅"

    def ready(self) -> None:
        _register_scopes()


def _register_scopes() -> None:
    """Staff scoping (core.scoping)."""
    from .models import (  # after the apps registry loads
        ExportPull,
        ExportToken,
        KioskSession,
        SupplyDemandSnapshot,
    )

    reason = "open-data tokens hand the whole city's figures to the provincial centre: a district decision"
    scope_district_only(ExportToken, reason=reason)
    scope_district_only(ExportPull, reason=reason)
    scope_by_point(KioskSession, "service_point")
    scope_global(SupplyDemandSnapshot, reason="daily counts by trade and area: aggregates, no personal data")
