"""Start-up check of the environment: every ``GIGMARKET_*`` variable set must be one a setting reads
(``gigmarket.env``). Registered by the settings module itself (``gigmarket.settings.base`` imports this),
so it runs wherever Django's checks do, whatever apps are installed."""

from __future__ import annotations

import os

from django.core.checks import Warning as CheckWarning
from django.core.checks import register

from .env import unknown_variables


@register()
def environment_names_are_known(app_configs, **kwargs) -> list[CheckWarning]:
    """A mistyped variable would otherwise be ignored in silence and its default used. Runs wherever
    checks do: ``runserver``, ``migrate``, ``check`` (the Docker image's entry point)."""
    warnings = []
    for name, closest in unknown_variables(os.environ):
        hint = f"Did you mean {closest}?" if closest else "See the Configuration table in README.md."
        warnings.append(
            CheckWarning(
                f"{name} is set but no setting reads it; it has no effect.", hint=hint, id="gigmarket.W001"
            )
        )
    return warnings
