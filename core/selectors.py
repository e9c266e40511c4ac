"""Reads of core data."""

from __future__ import annotations

from dataclasses import dataclass

from .models import GENESIS_HASH, AuditLog


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str  # the last row's hash: record it elsewhere to catch a truncated tail later
    broken_at: int | None = None  # pk of the first row that does not fit
    problem: str = ""


def audit_chain_check() -> ChainReport:
    """Walk the audit log in append order: each row must name the previous row's hash and hash to its own."""
    expected_prev, rows = GENESIS_HASH, 0
    for entry in AuditLog.objects.order_by("pk").iterator(chunk_size=2000):
        if entry.prev_hash != expected_prev:
            return ChainReport(
                rows, expected_prev, entry.pk, "上一条摘要对不上（前面有记录被删除、插入或改动）"
            )
        if entry.compute_hash() != entry.row_hash:
            return ChainReport(rows, expected_prev, entry.pk, "本条内容与摘要不符（记录被改动）")
        expected_prev, rows = entry.row_hash, rows + 1
    return ChainReport(rows, expected_prev)
