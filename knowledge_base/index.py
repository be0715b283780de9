"""The Whoosh index: schema, one writer at a time, searchers refreshed after each commit."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from whoosh import fields, index, writing
from whoosh.filedb.filestore import FileStorage, RamStorage, Storage
from whoosh.searching import Searcher

from knowledge_base.analysis import LANGUAGES, analyzer_for, language_key
from knowledge_base.documents import KbDocument, markdown_to_text
from knowledge_base.engine import TableCache
from knowledge_base.search import SearchHit, SearchOptions, run_search

__all__ = ["KbIndex", "build_schema"]

INDEX_NAME = "kb"
# Seconds a writer waits for another process's write lock (two nodes, one index dir).
WRITE_LOCK_TIMEOUT = 30.0


def build_schema() -> fields.Schema:
    """Stored fields for display plus, per language, title / tags / content fields.

    "content" holds title, tags and body together, so a word found in the title counts in
    both the title and the content field: that is how the title outweighs the body.
    """
    spec: dict[str, Any] = {
        "id": fields.ID(stored=True, unique=True),
        "language": fields.ID(stored=True),
        "script": fields.ID(stored=True),
        "category": fields.ID(stored=True),
        "published": fields.BOOLEAN(stored=True),
        "version": fields.STORED(),
        "url": fields.STORED(),
        "title": fields.STORED(),
        "text": fields.STORED(),
    }
    for lang in LANGUAGES:
        analyzer = analyzer_for(lang)
        spec[f"title_{lang}"] = fields.TEXT(analyzer=analyzer)
        spec[f"tags_{lang}"] = fields.TEXT(analyzer=analyzer)
        spec[f"content_{lang}"] = fields.TEXT(analyzer=analyzer)
    return fields.Schema(**spec)


class _PrivateRamStorage(RamStorage):
    """RamStorage whose scratch directory is private.

    Whoosh's own puts it at /tmp/<segment>.tmp, which parallel processes share and delete
    under each other.
    """

    def temp_storage(self, name: str | None = None) -> Storage:
        return FileStorage(tempfile.mkdtemp(prefix="kb-ram-")).create()


def _fields_for(doc: KbDocument) -> dict[str, Any]:
    lang = language_key(doc.language)
    text = markdown_to_text(doc.body)
    tags = " ".join(doc.tags)
    return {
        "id": doc.id,
        "language": lang,
        "script": doc.script,
        "category": doc.category or "",
        "published": bool(doc.published),
        "version": doc.version,
        "url": doc.url,
        "title": doc.title,
        "text": text,
        f"title_{lang}": doc.title,
        f"tags_{lang}": tags,
        f"content_{lang}": f"{doc.title}\n{tags}\n{text}",
    }


class KbIndex:
    """A Whoosh index in a directory (or in memory when path is None).

    Writes are serialized by a lock in this process and by Whoosh's lock file across
    processes; each thread keeps its own searcher and refreshes it before searching, so a
    commit is visible to the next search without reopening anything.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._local = threading.local()
        # Scored postings per index version, shared by the threads (see engine.py).
        self._tables = TableCache()
        schema = build_schema()
        if path is None:
            self._ix = _PrivateRamStorage().create_index(schema, indexname=INDEX_NAME)
        else:
            path.mkdir(parents=True, exist_ok=True)
            if index.exists_in(str(path), indexname=INDEX_NAME):
                self._ix = index.open_dir(str(path), indexname=INDEX_NAME)
                if set(self._ix.schema.names()) != set(schema.names()):
                    # An index from an older schema: start afresh, the DB is the truth.
                    self._ix = index.create_in(str(path), schema, indexname=INDEX_NAME)
            else:
                self._ix = index.create_in(str(path), schema, indexname=INDEX_NAME)

    # -- writing -------------------------------------------------------------------------

    def _writer(self) -> writing.IndexWriter:
        return self._ix.writer(timeout=WRITE_LOCK_TIMEOUT)

    def rebuild(self, docs: Iterable[KbDocument], progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with docs in one commit; readers see old or new."""
        count = 0
        with self._write_lock:
            w = self._writer()
            try:
                for doc in docs:
                    w.add_document(**_fields_for(doc))
                    count += 1
                    if progress is not None:
                        progress(count)
            except BaseException:
                w.cancel()
                raise
            w.commit(mergetype=writing.CLEAR)
        return count

    def upsert(self, docs: Iterable[KbDocument]) -> int:
        count = 0
        with self._write_lock:
            w = self._writer()
            try:
                for doc in docs:
                    w.update_document(**_fields_for(doc))
                    count += 1
            except BaseException:
                w.cancel()
                raise
            w.commit()
        return count

    def delete(self, ids: Iterable[str]) -> None:
        with self._write_lock:
            w = self._writer()
            for doc_id in ids:
                w.delete_by_term("id", doc_id)
            w.commit()

    # -- reading -------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """This thread's searcher, refreshed to the latest commit."""
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is None:
            current = self._ix.searcher()
        elif not current.up_to_date():
            # A fresh searcher, not refresh(): refresh() reuses segment readers and keeps their
            # old deletion lists, so an updated article would show twice.
            current.close()
            current = self._ix.searcher()
        self._local.searcher = current
        return current

    def versions(self) -> dict[str, str]:
        """id -> version of every indexed document (to find what the DB changed)."""
        s = self.searcher()
        return {f["id"]: f.get("version") or "" for f in s.all_stored_fields()}

    def doc_count(self) -> int:
        return int(self.searcher().doc_count())

    def search(
        self,
        text: str,
        language: str | None = None,
        limit: int = 5,
        published_only: bool = True,
        options: SearchOptions | None = None,
    ) -> list[SearchHit]:
        return run_search(
            self.searcher(),
            text,
            language=language,
            limit=limit,
            published_only=published_only,
            options=options,
            tables=self._tables,
        )

    def close(self) -> None:
        self._tables.clear()
        current: Searcher | None = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None
