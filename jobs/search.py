"""Chinese keyword search without a Chinese parser.

PostgreSQL here has no Chinese text-search configuration, so a post's text is cut into tokens ourselves:
every single CJK character and every pair of neighbours (bigrams), plus lower-cased Latin/digit words.
The tokens go into ``Post.search_tokens``; PostgreSQL keeps ``to_tsvector('simple', search_tokens)`` in a
stored column ``search_vector`` under a GIN index (migration jobs 0006).
A query of one character matches the unigram (焊 → 电焊工), two characters the bigram (保洁), longer
queries need all their bigrams (开荒保洁 → 开荒 & 荒保 & 保洁). On SQLite the search falls back to
``icontains`` on title and description.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Lookup, Q, TextField

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _runs(text: str) -> list[str]:
    return _RUN.findall(text or "")


def index_tokens(*texts: str) -> str:
    tokens: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for run in _runs(text):
            if _CJK.match(run):
                grams = list(run) + [run[i : i + 2] for i in range(len(run) - 1)]
            else:
                grams = [run.lower()]
            for gram in grams:
                if gram not in seen:
                    seen.add(gram)
                    tokens.append(gram)
    return " ".join(tokens)


def query_tokens(query: str) -> list[str]:
    tokens: list[str] = []
    for run in _runs(query)[:8]:
        if _CJK.match(run):
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            grams = [run.lower()]
        tokens.extend(g for g in grams if g not in tokens)
    return tokens[:16]


STORED_FROM, STORED_VECTOR = "search_tokens", "search_vector"


@TextField.register_lookup
class TsMatch(Lookup):
    """``search_tokens__tsmatch="'保洁' & '洁工'"``: a tsquery over the token column (PostgreSQL only)."""

    lookup_name = "tsmatch"

    def as_sql(self, compiler, conn):
        lhs, lhs_params = self.process_lhs(compiler, conn)
        rhs, rhs_params = self.process_rhs(compiler, conn)
        # jobs_post keeps the parsed tokens in a stored, GIN-indexed column (migration jobs 0006): matching a
        # row reads it instead of parsing the text again.
        if lhs.endswith(f'"{STORED_FROM}"') and not lhs_params:
            vector = lhs[: -len(STORED_FROM) - 2] + f'"{STORED_VECTOR}"'
        else:
            vector = f"to_tsvector('simple', {lhs})"
        return f"{vector} @@ to_tsquery('simple', {rhs})", [*lhs_params, *rhs_params]


def to_tsquery(tokens: list[str]) -> str:
    # Tokens are CJK characters or [a-z0-9] runs only (see _RUN), so quoting cannot be broken out of.
    return " & ".join(f"'{t}'" for t in tokens)


def keyword_filter(query: str) -> Q | None:
    tokens = query_tokens(query)
    if not tokens:
        return None
    if connection.vendor == "postgresql":
        return Q(search_tokens__tsmatch=to_tsquery(tokens))
    text = "".join(_runs(query))
    return Q(title__icontains=text) | Q(description__icontains=text) | Q(trade__name__icontains=text)
