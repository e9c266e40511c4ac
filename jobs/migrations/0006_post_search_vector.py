"""The keyword index, stored: a generated ``tsvector`` column next to the bigram tokens, with the GIN index on
it (PostgreSQL only; see jobs/search.py). Matching a row no longer re-parses its tokens, so a plan that walks
the newest-first index and filters (the planner's choice for common words such as 保洁) stays cheap too.
The column is PostgreSQL's to keep: Django never writes it (it is not a model field)."""

from django.db import migrations

OLD_INDEX = "jobs_post_search_gin"
INDEX = "jobs_post_search_vector_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE jobs_post ADD COLUMN IF NOT EXISTS search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_tokens)) STORED",
        params=None,
    )
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON jobs_post USING gin (search_vector)", params=None)
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}", params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON jobs_post USING gin (to_tsvector('simple', search_tokens))",
        params=None,
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)
    schema_editor.execute("ALTER TABLE jobs_post DROP COLUMN IF EXISTS search_vector", params=None)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_post_geo_knn")]
    operations = [migrations.RunPython(create, drop)]
