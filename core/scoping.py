"""Staff scoping: which service point each staff-visible object belongs to, and the one filter that keeps a
staff member to their point and the points below it (the "1+17+N" tree: district market → street/town
markets → village stations).

Every model a staff member can reach (console, staff API, staff pages, exports, files) is registered here
by its app, in ``AppConfig.ready()``, as one of:

- **by point**: one or more paths to a ``ServicePoint`` (``"service_point"``, ``"user__service_point"``,
  ``"order__post__service_point"``…); a row is visible when any path leads into the staff member's points.
  A row whose paths all lead nowhere (no point recorded) belongs to the top of the tree: only staff who see
  every point (the district market, superusers) see it.
- **district only**: city-wide things (open-data tokens and their pull log): only staff who see every point.
- **superuser only**: powers over access itself (groups, API tokens, lock-out records).
- **global**: reference data with no personal data (trades, the premium table, areas), with the reason.

:func:`objects_visible_to` is the selector every staff read goes through; :class:`ScopedAdminMixin` puts it
under a ModelAdmin's ``get_queryset`` (so lists, change pages, file views, history and actions are all cut
the same way) and under its foreign-key choices. A model that is not registered raises
``ImproperlyConfigured``: a new model is never shown unscoped by accident (``tests/core/test_staff_scoping.py``
walks ``admin.site._registry`` and fails on one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin import RelatedFieldListFilter
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404


@dataclass(frozen=True)
class Scope:
    kind: str  # "point" | "district" | "superuser" | "global"
    paths: tuple[str, ...] = ()
    # For rows that reach their point through something a path cannot say (a generic subject + id):
    # build(points) -> Q.
    build: Callable[[QuerySet], Q] | None = None
    reason: str = ""


_SCOPES: dict[type[models.Model], Scope] = {}


def _key(model: type[models.Model]) -> type[models.Model]:
    return model._meta.concrete_model


def scope_by_point(
    model: type[models.Model], *paths: str, build: Callable[[QuerySet], Q] | None = None
) -> None:
    """Rows of ``model`` belong to the point(s) reached through ``paths`` (any of them), or ``build``."""
    if not paths and build is None:
        raise ImproperlyConfigured(f"{model._meta.label}: give a path to a service point")
    _SCOPES[_key(model)] = Scope(kind="point", paths=paths, build=build)


def scope_district_only(model: type[models.Model], *, reason: str) -> None:
    _SCOPES[_key(model)] = Scope(kind="district", reason=reason)


def scope_superuser_only(model: type[models.Model], *, reason: str) -> None:
    _SCOPES[_key(model)] = Scope(kind="superuser", reason=reason)


def scope_global(model: type[models.Model], *, reason: str) -> None:
    _SCOPES[_key(model)] = Scope(kind="global", reason=reason)


def scope_of(model: type[models.Model]) -> Scope | None:
    return _SCOPES.get(_key(model))


def registered_scopes() -> dict[type[models.Model], Scope]:
    return dict(_SCOPES)


_POINT_TREE: dict[str, Callable] = {}


def point_tree_register(*, sees_every_point: Callable, service_points_visible_to: Callable) -> None:
    """accounts owns the service-point tree and sits above core: it hands core its two questions at start
    (``AccountsConfig.ready``), so core never imports it."""
    _POINT_TREE.update(sees_every_point=sees_every_point, service_points_visible_to=service_points_visible_to)


def _tree():
    if not _POINT_TREE:
        raise ImproperlyConfigured(
            "the service-point tree is not registered (accounts.apps.AccountsConfig.ready)"
        )
    return _POINT_TREE["sees_every_point"], _POINT_TREE["service_points_visible_to"]


def sees_everything(user) -> bool:
    sees_every_point, _ = _tree()
    return bool(user is not None and user.is_authenticated and user.is_active and sees_every_point(user=user))


def _multi_valued(model: type[models.Model], path: str) -> bool:
    """Whether ``path`` crosses a to-many relation (then a filter on it can repeat rows)."""
    current = model
    for name in path.split("__"):
        try:
            f = current._meta.get_field(name)
        except Exception:
            return False
        if f.many_to_many or f.one_to_many:
            return True
        if not f.is_relation:
            return False
        current = f.related_model
    return False


def objects_visible_to(user, queryset: QuerySet) -> QuerySet:
    """``queryset`` cut to what ``user`` (a staff member) may see. Not staff, or staff without a point:
    nothing. Unregistered model: ``ImproperlyConfigured``."""
    model = queryset.model
    scope = scope_of(model)
    if scope is None:
        raise ImproperlyConfigured(
            f"{model._meta.label} is shown to staff but has no scope: register it in core.scoping "
            "(by point, district only, superuser only or global with a reason)"
        )
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return queryset.none()
    if user.is_superuser or scope.kind == "global":
        return queryset
    if scope.kind == "superuser":
        return queryset.none()
    if sees_everything(user):
        return queryset
    if scope.kind == "district":
        return queryset.none()
    _, service_points_visible_to = _tree()
    points = service_points_visible_to(user=user)
    condition = Q()
    for path in scope.paths:
        condition |= Q(**{f"{path}__in": points})
    if scope.build is not None:
        condition |= scope.build(points)
    if scope.build is not None or any(_multi_valued(model, p) for p in scope.paths):
        # Through a to-many relation: a semi-join, so a row is not repeated once per match.
        return queryset.filter(pk__in=model._base_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


def object_visible_to(user, obj: models.Model) -> bool:
    return objects_visible_to(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def get_visible_or_404(user, queryset: QuerySet, **lookup):
    """One object of ``queryset`` the staff member may see; anything else is a 404 (not a 403: whether
    another point's object exists is not theirs to learn)."""
    try:
        return objects_visible_to(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("未找到") from exc


class ScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """A list filter on a relation offering only the related rows the staff member may see (another
    point's employers or service points are not listed as filter choices)."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        if scope_of(related) is None or scope_of(related).kind == "global":
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        rows = objects_visible_to(request.user, related._default_manager.all())
        if ordering:
            rows = rows.order_by(*ordering)
        target = "pk" if field.many_to_many else field.target_field.attname
        return [(getattr(row, target), str(row)) for row in rows[:500]]


class ScopedAdminMixin:
    """Put first in a ModelAdmin's bases. Lists, change/delete/history pages, file views built on
    ``get_object``, admin actions (Django hands them ``get_queryset``'s rows) and autocomplete all see only
    the staff member's rows; foreign-key and many-to-many choices are cut the same way."""

    def get_queryset(self, request):
        return objects_visible_to(request.user, super().get_queryset(request))

    def get_list_filter(self, request):
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                try:
                    f = self.model._meta.get_field(item)
                except FieldDoesNotExist:
                    f = None
                if f is not None and f.is_relation and (f.many_to_one or f.many_to_many or f.one_to_one):
                    item = (item, ScopedRelatedFieldListFilter)
            filters.append(item)
        return filters

    def _scoped_choices(self, db_field, request, kwargs):
        related = db_field.remote_field.model
        if "queryset" in kwargs or scope_of(related) is None:
            return kwargs
        base = self.get_field_queryset(None, db_field, request)
        if base is None:
            base = related._default_manager.all()
        kwargs["queryset"] = objects_visible_to(request.user, base)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(
            db_field, request, **self._scoped_choices(db_field, request, kwargs)
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(
            db_field, request, **self._scoped_choices(db_field, request, kwargs)
        )

    def has_add_permission(self, request, *args):
        # District-only and superuser-only things cannot be made by staff who could not see them.
        scope = scope_of(self.model)
        if scope is not None and scope.kind == "district" and not sees_everything(request.user):
            return False
        if scope is not None and scope.kind == "superuser" and not request.user.is_superuser:
            return False
        return super().has_add_permission(request, *args)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the console home with "may have been deleted"; another point's object is
        # simply not there.
        raise Http404("未找到")


class SuperuserOnlyAdminMixin:
    """Access itself (groups, API tokens, lock-out records): superusers only, whatever permissions say."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
