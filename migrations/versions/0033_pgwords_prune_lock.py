"""ticket search words on PostgreSQL: a word's last row removed while a new row brings it stays listed

Revision ID: 0033_pgwords_prune_lock
Revises: 0032_namefts_columnsize

0031's triggers raced under READ COMMITTED. A transaction removing the last row with a word
checked that no row held it and deleted it, while another added a row with that word: if the new
row came first, the remover did not see it yet; if the removal came first, the adder still saw
the word listed (the delete not committed) and added nothing. Either way the word was gone from
``ticket_search_words`` while a row held it, and a search for it never found that ticket once it
was older than the recent window. Now the two meet on the word's row:

* the adder locks the rows of the words already listed (FOR KEY SHARE: adders never wait for
  each other) and adds the others: a remover's delete makes it wait until the remover commits,
  and then the word's row is gone and the word is added;
* the remover, for a word no row seems to hold, locks its rows (FOR UPDATE: it waits for an
  adder holding them) and looks again with a new snapshot, which then sees the adder's row.

The first look stays unlocked, so a word still held elsewhere (every common one) costs no lock
and never waits. When every row is gone (a rebuild), the table is locked against adders before
the words are dropped, for the same reason. A lock is held to the transaction's end and kept in
the row, not in the shared lock table, so a bulk load of many thousands of words cannot run it
out (an advisory lock per word could). Costs: bench/README.md, helper pgwordsrace.
SQLite: nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033_pgwords_prune_lock"
down_revision: str | Sequence[str] | None = "0032_namefts_columnsize"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rows of the words already listed are locked and read in one statement; a row deleted by a
# remover that committed while this waited is skipped (READ COMMITTED), so its word is added. A
# word listed only by a transaction not yet committed is added again: a harmless duplicate.
ADD = """
CREATE OR REPLACE FUNCTION ticket_search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lexemes text[] := ARRAY(SELECT w FROM unnest(tsvector_to_array(NEW.doc)) AS w WHERE w !~ '^[0-9]');
    listed text[];
BEGIN
    listed := ARRAY(SELECT word FROM ticket_search_words WHERE word = ANY(lexemes) FOR KEY SHARE);
    IF NOT listed @> lexemes THEN
        INSERT INTO ticket_search_words (word) SELECT w FROM unnest(lexemes) AS w WHERE w <> ALL(listed);
    END IF;
    RETURN NULL;
END $$
"""

# As 0031's, with the locked second look before a delete, and words in order (two removers
# taking the same words lock them in the same order).
PRUNE = """
CREATE OR REPLACE FUNCTION ticket_search_words_prune() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = on SET enable_bitmapscan = on AS $$
DECLARE
    common text[];
    lexeme text;
    used boolean;
    probe constant text := 'SELECT EXISTS (SELECT 1 FROM ticket_search_docs WHERE doc @@ CAST($1 AS tsquery))';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM removed) THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ticket_search_docs) THEN  -- all rows gone (a rebuild)
        LOCK TABLE ticket_search_words IN EXCLUSIVE MODE;  -- waits for the adders under way
        IF NOT EXISTS (SELECT 1 FROM ticket_search_docs) THEN
            DELETE FROM ticket_search_words;
            RETURN NULL;
        END IF;
    END IF;
    SELECT CAST(CAST(most_common_elems AS text) AS text[]) INTO common FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'ticket_search_docs' AND attname = 'doc';
    FOR lexeme IN
        SELECT DISTINCT w FROM removed, unnest(tsvector_to_array(removed.doc)) AS w WHERE w !~ '^[0-9]'
        ORDER BY w
    LOOP
        PERFORM set_config('enable_seqscan', CASE WHEN lexeme = ANY(common) THEN 'on' ELSE 'off' END, true);
        PERFORM set_config('enable_bitmapscan', CASE WHEN lexeme = ANY(common) THEN 'off' ELSE 'on' END, true);
        EXECUTE probe INTO used USING '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''';
        IF NOT used THEN
            PERFORM FROM ticket_search_words WHERE word = lexeme FOR UPDATE;
            EXECUTE probe INTO used USING '''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''';
            IF NOT used THEN
                DELETE FROM ticket_search_words WHERE word = lexeme;
            END IF;
        END IF;
    END LOOP;
    RETURN NULL;
END $$
"""


def _previous() -> tuple[str, str]:
    """0031's two functions, as CREATE OR REPLACE."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0031_pgwords_search_words.py")
    spec = importlib.util.spec_from_file_location("pgwords_0031", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(  # type: ignore[return-value]
        sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
        for sql in (module._ADD, module._PRUNE)
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ADD)
    op.execute(PRUNE)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for sql in _previous():
        op.execute(sql)
