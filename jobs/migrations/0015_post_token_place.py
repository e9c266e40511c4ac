"""Nearest first with a keyword reads the word's rows by place: ``jobs_post_token`` rows carry their post's
lat and lng, under ``jobs_post_token_cell`` (token, grid cell — the expression of jobs_post_geo_cell — with
the post id and place), so a distance ring with a word probes that word's rows in the ring's cells only, and
a word in few posts has all its rows sorted by distance from the index alone (``jobs.selectors._NearSql``).
Before, a word found only in far villages (茶) made the rings read every post on the way and its tsvector.

The trigger now also follows a post's place (an edited address moves its rows). The table is filled again
(the columns come with every row), its indexes rebuilt after the fill. Change GEO_CITY_LATITUDE or GEO_CELL
→ rebuild this index (as for 0009)."""

from django.db import migrations

from jobs.selectors import geo_cell_sql

SYNC = """
CREATE OR REPLACE FUNCTION jobs_post_token_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM jobs_post_token WHERE post_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'open' THEN
        INSERT INTO jobs_post_token (token, post_id, published_at, pay_fen{place})
        SELECT DISTINCT t, NEW.id, NEW.published_at, NEW.pay_fen{new_place}
        FROM unnest(string_to_array(NEW.search_tokens, ' ')) AS t WHERE t <> '';
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS jobs_post_token_change ON jobs_post;
CREATE TRIGGER jobs_post_token_change AFTER UPDATE ON jobs_post FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.published_at IS DISTINCT FROM NEW.published_at OR OLD.pay_fen IS DISTINCT FROM NEW.pay_fen{moved})
    EXECUTE FUNCTION jobs_post_token_sync();
"""

FILL = """
TRUNCATE jobs_post_token;
INSERT INTO jobs_post_token (token, post_id, published_at, pay_fen{place})
SELECT DISTINCT t, p.id, p.published_at, p.pay_fen{post_place}
FROM jobs_post p, unnest(string_to_array(p.search_tokens, ' ')) AS t
WHERE p.status = 'open' AND t <> '';
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_post_token_newest ON jobs_post_token (token, published_at DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS jobs_post_token_pay ON jobs_post_token (token, pay_fen DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS jobs_post_token_post ON jobs_post_token (post_id);
"""

DROP_INDEXES = """
DROP INDEX IF EXISTS jobs_post_token_cell;
DROP INDEX IF EXISTS jobs_post_token_newest;
DROP INDEX IF EXISTS jobs_post_token_pay;
DROP INDEX IF EXISTS jobs_post_token_post;
"""

WITH_PLACE = {
    "place": ", lat, lng",
    "new_place": ", NEW.lat, NEW.lng",
    "post_place": ", p.lat, p.lng",
    "moved": "\n          OR OLD.lat IS DISTINCT FROM NEW.lat OR OLD.lng IS DISTINCT FROM NEW.lng",
}
WITHOUT_PLACE = dict.fromkeys(WITH_PLACE, "")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = lambda sql: schema_editor.execute(sql, params=None)  # noqa: E731
    run(DROP_INDEXES)  # filled without indexes, then indexed: far faster than updating 50 rows a post
    run(
        "ALTER TABLE jobs_post_token ADD COLUMN IF NOT EXISTS lat double precision, "
        "ADD COLUMN IF NOT EXISTS lng double precision"
    )
    run(SYNC.format(**WITH_PLACE))
    run(FILL.format(**WITH_PLACE))
    run(INDEXES)
    run(
        f"CREATE INDEX jobs_post_token_cell ON jobs_post_token (token, ({geo_cell_sql()})) "
        "INCLUDE (post_id, lat, lng) WHERE lat IS NOT NULL"
    )
    run("ANALYZE jobs_post_token")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = lambda sql: schema_editor.execute(sql, params=None)  # noqa: E731
    run("DROP INDEX IF EXISTS jobs_post_token_cell")
    run(SYNC.format(**WITHOUT_PLACE))
    run("ALTER TABLE jobs_post_token DROP COLUMN IF EXISTS lat, DROP COLUMN IF EXISTS lng")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0014_board_filter_indexes")]
    operations = [migrations.RunPython(forward, backward)]
