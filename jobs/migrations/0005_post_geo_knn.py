"""Nearest-first board pages without sorting the city: a GiST index over each open post's place as a
local-equirectangular point (longitude scaled by cos of the city latitude), searched with ``<->`` (PostgreSQL only; see jobs/selectors.board)."""

from django.db import migrations

INDEX = "jobs_post_geo_knn"


def create(apps, schema_editor):
    from jobs.selectors import geo_scale

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_post USING gist "
            f"(point(lng * {geo_scale()!r}, lat)) WHERE status = 'open' AND lat IS NOT NULL",
            params=None,
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_order_payment")]
    operations = [migrations.RunPython(create, drop)]
