"""BEIR-layout evaluation: index a corpus afresh and score queries against qrels."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge_base.documents import KbDocument
from knowledge_base.index import KbIndex
from knowledge_base.search import SearchOptions, run_search
from triage.text import detect_language

__all__ = ["EvalResult", "load_corpus", "load_queries", "load_qrels", "evaluate", "metrics"]

K = 10


@dataclass(frozen=True)
class EvalResult:
    ndcg_at_10: float
    mrr_at_10: float
    p_at_1: float
    recall_at_10: float
    queries: int
    documents: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "ndcg@10": self.ndcg_at_10,
            "mrr@10": self.mrr_at_10,
            "p@1": self.p_at_1,
            "recall@10": self.recall_at_10,
            "queries": self.queries,
            "documents": self.documents,
        }


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or "_id" not in row:
                raise ValueError(f"{path}:{n}: expected an object with an _id")
            yield row


def load_corpus(path: Path, language: str | None = None) -> list[KbDocument]:
    """BEIR corpus.jsonl rows ({_id, title, text}) as documents; language guessed if None."""
    docs = []
    for row in _jsonl(path):
        title, text = str(row.get("title") or ""), str(row.get("text") or "")
        lang = language or ("sr" if detect_language(f"{title} {text}") == "sr" else "en")
        docs.append(KbDocument(id=str(row["_id"]), title=title, body=text, language=lang))
    return docs


def load_queries(path: Path) -> dict[str, str]:
    return {str(row["_id"]): str(row.get("text") or "") for row in _jsonl(path)}


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """qrels TSV (query-id, corpus-id, score) with a header line; score > 0 is relevant."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), 1):
            if not row or (n == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{n}: expected query-id, corpus-id, score")
            score = int(row[2])
            if score > 0:
                qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


def metrics(ranked: list[str], relevant: dict[str, int]) -> tuple[float, float, float, float]:
    """nDCG@10 (graded), MRR@10, P@1 and recall@10 for one query."""
    top = ranked[:K]
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(relevant.values(), reverse=True)[:K]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    rr = next((1.0 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    p1 = 1.0 if top and top[0] in relevant else 0.0
    recall = len(set(top) & set(relevant)) / len(relevant) if relevant else 0.0
    return (dcg / idcg if idcg else 0.0), rr, p1, recall


def evaluate(
    corpus: Iterable[KbDocument],
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    language: str | None = None,
    options: SearchOptions | None = None,
) -> EvalResult:
    """Index corpus in memory with the product's analyzers and score every judged query."""
    index = KbIndex(None)
    try:
        n_docs = index.rebuild(corpus)
        searcher = index.searcher()
        totals = [0.0, 0.0, 0.0, 0.0]
        judged = [qid for qid in qrels if qid in queries]
        for qid in judged:
            hits = run_search(
                searcher,
                queries[qid],
                language=language,
                limit=K,
                options=options,
                snippets=False,
            )
            for i, value in enumerate(metrics([h.id for h in hits], qrels[qid])):
                totals[i] += value
    finally:
        index.close()
    n = max(len(judged), 1)
    r = [round(t / n, 4) for t in totals]
    return EvalResult(r[0], r[1], r[2], r[3], len(judged), n_docs)
