"""Keyword pages that drive from the word's side (PostgreSQL only; see jobs/search.py and jobs.selectors).

The GIN index finds every post holding a word but not in any order: a common word (保洁: a third of the
board) under "best paid" made PostgreSQL either fetch and sort every match or walk the pay index past tens
of thousands of better-paid posts without the word. ``jobs_post_token`` holds one row per (token, open
post) with the post's sort keys, under a b-tree per sort: a keyword page seeks the word's rows in page
order and stops after a page. A trigger keeps it in step with jobs_post (insert, delete, and updates of
the tokens, status, publication time or pay); only open posts have rows. Not a Django model: the ORM never
writes it."""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS jobs_post_token (
    token text NOT NULL,
    post_id bigint NOT NULL,
    published_at timestamptz,
    pay_fen integer NOT NULL
);

CREATE OR REPLACE FUNCTION jobs_post_token_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM jobs_post_token WHERE post_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status = 'open' THEN
        INSERT INTO jobs_post_token (token, post_id, published_at, pay_fen)
        SELECT DISTINCT t, NEW.id, NEW.published_at, NEW.pay_fen
        FROM unnest(string_to_array(NEW.search_tokens, ' ')) AS t WHERE t <> '';
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS jobs_post_token_write ON jobs_post;
CREATE TRIGGER jobs_post_token_write AFTER INSERT OR DELETE ON jobs_post
    FOR EACH ROW EXECUTE FUNCTION jobs_post_token_sync();
DROP TRIGGER IF EXISTS jobs_post_token_change ON jobs_post;
CREATE TRIGGER jobs_post_token_change AFTER UPDATE ON jobs_post FOR EACH ROW
    WHEN (OLD.search_tokens IS DISTINCT FROM NEW.search_tokens OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.published_at IS DISTINCT FROM NEW.published_at OR OLD.pay_fen IS DISTINCT FROM NEW.pay_fen)
    EXECUTE FUNCTION jobs_post_token_sync();

CREATE OR REPLACE FUNCTION jobs_post_token_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE jobs_post_token;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS jobs_post_token_truncate ON jobs_post;
CREATE TRIGGER jobs_post_token_truncate AFTER TRUNCATE ON jobs_post
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_post_token_clear();

TRUNCATE jobs_post_token;
INSERT INTO jobs_post_token (token, post_id, published_at, pay_fen)
SELECT DISTINCT t, p.id, p.published_at, p.pay_fen
FROM jobs_post p, unnest(string_to_array(p.search_tokens, ' ')) AS t
WHERE p.status = 'open' AND t <> '';

CREATE INDEX IF NOT EXISTS jobs_post_token_newest ON jobs_post_token (token, published_at DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS jobs_post_token_pay ON jobs_post_token (token, pay_fen DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS jobs_post_token_post ON jobs_post_token (post_id);
ANALYZE jobs_post_token;
"""

DROP = """
DROP TRIGGER IF EXISTS jobs_post_token_write ON jobs_post;
DROP TRIGGER IF EXISTS jobs_post_token_change ON jobs_post;
DROP TRIGGER IF EXISTS jobs_post_token_truncate ON jobs_post;
DROP FUNCTION IF EXISTS jobs_post_token_sync();
DROP FUNCTION IF EXISTS jobs_post_token_clear();
DROP TABLE IF EXISTS jobs_post_token;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0009_post_geo_cell")]
    operations = [migrations.RunPython(create, drop)]
