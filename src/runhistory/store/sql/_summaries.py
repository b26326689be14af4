"""Block summaries of long metrics: one row per SUMMARY_BLOCK_POINTS points, for charts.

Every chunk of points has a summary (x range, value min/max and where they occur). Once a
metric's points reach the end of a block, the summaries of the chunks that start in it are
packed into one ``metric_summaries`` row, so a chart of a long metric reads a few rows of
packed arrays instead of one summary row per 128 points. The block is written in the same
transaction as the chunk that completes it; the incomplete last block is read from the chunk
table (its covering index) at chart time.

A packed block holds, for ``n`` chunks, eight little-endian arrays one after another:
``first_seq``, ``count``, ``x_min``, ``x_max`` (int64), ``value_min``, ``value_max``
(float64, NaN when a chunk has no numeric value) and ``x_at_min``, ``x_at_max`` (int64).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from runhistory.store.sql.schema import metric_chunks, metric_summaries

SUMMARY_BLOCK_POINTS = 32_768
# (first_seq, count, value_min, value_max, x_at_min, x_at_max, x_min, x_max): the order reads use
Summary = tuple[int, int, float | None, float | None, int | None, int | None, int, int]
_CODES = "qqqqddqq"  # packed order: first_seq, count, x_min, x_max, vmin, vmax, x_at_min, x_at_max
_SWAP = sys.byteorder != "little"
_chunk = metric_chunks.c
TAIL_COLUMNS = (_chunk.first_seq, _chunk.count, _chunk.value_min, _chunk.value_max,
                 _chunk.x_at_min, _chunk.x_at_max, _chunk.x_min, _chunk.x_max)  # fmt: skip
_IN_BLOCK = (
    select(*TAIL_COLUMNS)
    .where(
        _chunk.metric_id == bindparam("metric"),
        _chunk.first_seq >= bindparam("low"),
        _chunk.first_seq < bindparam("high"),
    )
    .order_by(_chunk.first_seq)
)
_INSERT = insert(metric_summaries)


def pack(summaries: Sequence[Summary]) -> bytes:
    """The packed form of chunk summaries (in first_seq order)."""
    columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
    for first, count, low, high, x_low, x_high, x_min, x_max in summaries:
        values = (first, count, x_min, x_max, math.nan if low is None else low,
                  math.nan if high is None else high, x_low or 0, x_high or 0)  # fmt: skip
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    data = b""
    for code, column in zip(_CODES, columns, strict=True):
        packed = array(code, column)
        if _SWAP:
            packed.byteswap()
        data += packed.tobytes()
    return data


class SummaryColumns:
    """Chunk summaries of one metric as parallel lists (a chart read handles ~800 per run).

    ``low`` and ``high`` are NaN for a chunk without numeric values.
    """

    __slots__ = ("count", "high", "low", "x_at_high", "x_at_low", "x_max", "x_min")

    def __init__(self) -> None:
        self.count: list[int] = []
        self.x_min: list[int] = []
        self.x_max: list[int] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.x_at_low: list[int] = []
        self.x_at_high: list[int] = []

    def __len__(self) -> int:
        return len(self.count)

    def extend_packed(self, data: bytes, chunks: int) -> None:
        """Append the summaries of a packed block (see :func:`pack`)."""
        columns = []
        for index, code in enumerate(_CODES):
            packed = array(code)
            packed.frombytes(data[index * 8 * chunks : (index + 1) * 8 * chunks])
            if _SWAP:
                packed.byteswap()
            columns.append(packed.tolist())
        _, counts, x_min, x_max, low, high, x_low, x_high = columns
        self.count += counts
        self.x_min += x_min
        self.x_max += x_max
        self.low += low
        self.high += high
        self.x_at_low += x_low
        self.x_at_high += x_high

    def append(self, summary: Summary) -> None:
        """Append one summary (from a chunk row)."""
        _, count, low, high, x_low, x_high, x_min, x_max = summary
        self.count.append(count)
        self.x_min.append(x_min)
        self.x_max.append(x_max)
        self.low.append(math.nan if low is None else low)
        self.high.append(math.nan if high is None else high)
        self.x_at_low.append(x_low or 0)
        self.x_at_high.append(x_high or 0)

    def select(self, keep: Sequence[int]) -> SummaryColumns:
        """The summaries at the positions ``keep``, in that order."""
        chosen = SummaryColumns()
        for name in self.__slots__:
            column = getattr(self, name)
            setattr(chosen, name, [column[i] for i in keep])
        return chosen


def summary_of(row: dict[str, Any]) -> Summary:
    """The summary of a chunk row as built by ``encode_chunks``."""
    return (row["first_seq"], row["count"], row["value_min"], row["value_max"],
            row["x_at_min"], row["x_at_max"], row["x_min"], row["x_max"])  # fmt: skip


def complete_blocks(
    conn: Connection, metric_id: int, old_count: int, new_count: int, new_rows: Sequence[Any]
) -> None:
    """Write the block rows that points ``old_count .. new_count-1`` completed.

    ``new_rows`` are the chunk rows of those points (already inserted or about to be).
    """
    size = SUMMARY_BLOCK_POINTS
    first_block, last_block = old_count // size, new_count // size
    if last_block == first_block:
        return
    fresh = {row["first_seq"]: summary_of(row) for row in new_rows}
    for block in range(first_block, last_block):
        low, high = block * size, (block + 1) * size
        summaries = [s for seq, s in fresh.items() if low <= seq < high]
        if low < old_count:  # chunks written by earlier transactions
            params = {"metric": metric_id, "low": low, "high": min(high, old_count)}
            stored = [tuple(r) for r in conn.execute(_IN_BLOCK, params)]
            summaries = [*stored, *summaries]  # type: ignore[list-item]
        summaries.sort(key=lambda s: s[0])
        conn.execute(
            _INSERT,
            {
                "metric_id": metric_id,
                "first_seq": low,
                "chunk_count": len(summaries),
                "summary": pack(summaries),
            },
        )
