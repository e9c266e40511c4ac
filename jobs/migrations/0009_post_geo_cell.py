"""Nearest-first pages that seek instead of walking: an expression index over each open post's grid cell
(``jobs.selectors.geo_cell_sql``: rows of GEO_CELL degrees of latitude, columns of GEO_CELL degrees of scaled
longitude), PostgreSQL only. ``jobs.selectors._nearest_rows`` reads the cells of one distance ring through
it. Built from the same function the query uses, so the planner matches the expression; change
GEO_CITY_LATITUDE or GEO_CELL → rebuild this index (as for 0005)."""

from django.db import migrations

from jobs.selectors import geo_cell_sql

INDEX = "jobs_post_geo_cell"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_post (({geo_cell_sql()})) "
            "WHERE status = 'open' AND lat IS NOT NULL",
            params=None,
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0008_post_hidden_from_review")]
    operations = [migrations.RunPython(create, drop)]
