"""Admin pieces shared by every app's console pages: event lists in Chinese labels, a numbered column."""

from __future__ import annotations

from django.contrib import admin

from .display import readable_data, transition


class EventInline(admin.TabularInline):
    """An append-only event list under its object (order, policy, case…): time, who, the change in
    Chinese labels and the details in readable lines. Subclasses name ``model`` and ``status_choices``."""

    status_choices = None
    # The row's own title (the event's __str__, with raw codes) is hidden by admin.css.
    classes = ["event-inline"]
    fields = ["created_at", "actor", "transition", "details"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="状态变化")
    def transition(self, obj):
        return transition(self.status_choices, obj.from_status, obj.to_status)

    @admin.display(description="详情")
    def details(self, obj):
        return readable_data(obj.data)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.display(description="编号", ordering="pk")
def row_number(obj) -> int:
    """The row's number, for ``list_display`` (Django would head a bare ``"pk"`` column "Pk")."""
    return obj.pk
