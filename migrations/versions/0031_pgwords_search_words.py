"""ticket search words on PostgreSQL: the distinct words of ticket_search_docs, kept by triggers

Revision ID: 0031_pgwords_search_words
Revises: 0030_namesearch_merged_contacts

A query word is matched as a prefix. PostgreSQL's GIN index answers a prefix by collecting every
row of every word it starts into a bitmap before the first match (150-300 ms for two common words
at a million tickets), while whole words are intersected inside the index, skipping through the
longer list. ``helpdesk.ticket_search`` looks a prefix up in this table and asks the GIN index for
the whole words it stands for, so the table must hold every word of every row: triggers, not the
application, keep it, so that every writer of the search rows (the flush hook, the lean inbound
path, bulk loads, merges, erasure) is covered. Words that start with a digit are left out
(numbers, at least one new one per ticket); a number is still matched as a prefix.
SQLite: nothing (FTS5 has prefix indexes, 0027).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_pgwords_search_words"
down_revision: str | Sequence[str] | None = "0030_namesearch_merged_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Not unique: a unique index would make two transactions adding the same new word wait for each
# other (and deadlock on two such words in opposite orders). A rare duplicate is harmless. Per
# row, not per statement: only rows inserted or whose text changed, not every upsert statement.
_ADD = """
CREATE FUNCTION ticket_search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_search_words (word)
    SELECT w FROM unnest(tsvector_to_array(NEW.doc)) AS w
    WHERE w !~ '^[0-9]' AND NOT EXISTS (SELECT 1 FROM ticket_search_words s WHERE s.word = w);
    RETURN NULL;
END $$
"""

# An erased ticket's words must not outlive it here: a word of the rows removed goes when no row
# holds it any more. A word in the column's statistics (most_common_elems) is looked for with a
# plain scan, which meets it within the first few hundred rows (a GIN lookup collects every row
# of it first); any other word through the GIN index (for a word it has no statistics on, the
# planner guesses a scan, of the whole table when the word is rare). EXECUTE: a cached plan would
# not follow the enable_* settings.
_PRUNE = """
CREATE FUNCTION ticket_search_words_prune() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = on SET enable_bitmapscan = on AS $$
DECLARE
    common text[];
    lexeme text;
    used boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM removed) THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ticket_search_docs) THEN  -- all rows gone (a rebuild)
        DELETE FROM ticket_search_words;
        RETURN NULL;
    END IF;
    SELECT CAST(CAST(most_common_elems AS text) AS text[]) INTO common FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'ticket_search_docs' AND attname = 'doc';
    FOR lexeme IN
        SELECT DISTINCT w FROM removed, unnest(tsvector_to_array(removed.doc)) AS w WHERE w !~ '^[0-9]'
    LOOP
        PERFORM set_config('enable_seqscan', CASE WHEN lexeme = ANY(common) THEN 'on' ELSE 'off' END, true);
        PERFORM set_config('enable_bitmapscan', CASE WHEN lexeme = ANY(common) THEN 'off' ELSE 'on' END, true);
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ticket_search_docs WHERE doc @@ CAST($1 AS tsquery))'
            INTO used USING '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''';
        IF NOT used THEN
            DELETE FROM ticket_search_words WHERE word = lexeme;
        END IF;
    END LOOP;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    bind = op.get_bind()
    op.execute('CREATE TABLE ticket_search_words (word text COLLATE "C" NOT NULL)')
    # Every row read once: ~40 s at a million tickets, past the app's statement_timeout (30 s),
    # which is lifted for this statement only.
    bound = bind.execute(sa.text("SHOW statement_timeout")).scalar()
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute(
        "INSERT INTO ticket_search_words (word) SELECT DISTINCT w FROM ticket_search_docs, "
        "unnest(tsvector_to_array(doc)) AS w WHERE w !~ '^[0-9]'"
    )
    bind.execute(sa.text("SELECT set_config('statement_timeout', :v, true)"), {"v": bound})
    op.execute("CREATE INDEX ix_ticket_search_words_word ON ticket_search_words (word)")
    op.execute(_ADD)
    op.execute(_PRUNE)
    op.execute(
        "CREATE TRIGGER ticket_search_words_add AFTER INSERT OR UPDATE OF doc ON ticket_search_docs "
        "FOR EACH ROW EXECUTE FUNCTION ticket_search_words_add()"
    )
    for event in ("UPDATE", "DELETE"):  # one event per trigger: a transition table's rule
        op.execute(
            f"CREATE TRIGGER ticket_search_words_prune_{event.lower()} AFTER {event} ON ticket_search_docs "
            "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION ticket_search_words_prune()"
        )
    op.execute("ANALYZE ticket_search_words")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("add", "prune_update", "prune_delete"):
        op.execute(f"DROP TRIGGER ticket_search_words_{name} ON ticket_search_docs")
    op.execute("DROP FUNCTION ticket_search_words_add()")
    op.execute("DROP FUNCTION ticket_search_words_prune()")
    op.execute("DROP TABLE ticket_search_words")
