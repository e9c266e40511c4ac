"""The keyword index (see jobs/search.py): a GIN index over the post's bigram tokens, PostgreSQL only."""

from django.db import migrations

INDEX = "jobs_post_search_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_post USING gin (to_tsvector('simple', search_tokens))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_posts_claims_orders")]
    operations = [migrations.RunPython(create, drop)]
