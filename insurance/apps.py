from django.apps import AppConfig

from core.scoping import scope_by_point, scope_district_only, scope_global


class InsuranceConfig(AppConfig):
    name = "insurance"
    verbose_name = "意外保险"

    def ready(self) -> None:
        _register_scopes()


def _register_scopes() -> None:
    """Staff scoping (core.scoping): a policy and its claims follow the insured order."""
    from .models import (  # after the apps registry loads
        AccidentClaim,
        ClaimDocument,
        InsurerCallback,
        Policy,
        PremiumRate,
        Remittance,
    )

    scope_global(PremiumRate, reason="the city's premium table by risk class: reference data")
    scope_by_point(Policy, "order__post__service_point", "order__worker__service_point")
    scope_by_point(
        AccidentClaim, "policy__order__post__service_point", "policy__order__worker__service_point"
    )
    scope_by_point(
        ClaimDocument,
        "claim__policy__order__post__service_point",
        "claim__policy__order__worker__service_point",
    )
    scope_by_point(
        InsurerCallback,
        "claim__policy__order__post__service_point",
        "claim__policy__order__worker__service_point",
    )
    scope_district_only(Remittance, reason="the city's daily premium payment to the insurer: district books")
