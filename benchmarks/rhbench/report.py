"""The table (plain text or Markdown) and the JSON file of a benchmark run."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rhbench.harness import AIM, ML, RH, Row

TIMES = "\u00d7"  # the multiplication sign
HEADERS = [
    "id",
    "measure",
    "unit",
    "runhistory",
    "size",
    "MLflow",
    "size",
    f"rh {TIMES}",
    "Aim",
    "size",
    f"rh {TIMES} Aim",
    "storage",
]
RIGHT = {3, 4, 5, 6, 7, 8, 9, 10}  # right-aligned columns of the text table


def number(value: float | None) -> str:
    """A readable number: thousands separators for large values, 3 significant digits else."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def cells(row: Row) -> list[str]:
    """The table cells of one row; a side without numbers shows its status."""
    rh, ml, aim = (
        number(row.median(side)) if row.median(side) is not None else (row.status(side) or "-")
        for side in (RH, ML, AIM)
    )
    return [
        row.workload,
        row.measure,
        row.unit,
        rh,
        row.rh_size,
        ml,
        row.ml_size,
        _ratio(row.advantage(ML)),
        aim,
        row.aim_size,
        _ratio(row.advantage(AIM)),
        row.storage,
    ]


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{number(value)}{TIMES}"


def text_table(rows: list[Row]) -> str:
    """Aligned plain-text table; numbers right-aligned."""
    table = [HEADERS, *[cells(row) for row in rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = []
    for n, line in enumerate(table):
        parts = [
            c.rjust(w) if i in RIGHT else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    """The same table in Markdown."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] * len(HEADERS)) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |")
    return "\n".join(lines)


def write_json(
    path: Path, info: dict[str, Any], rows: list[Row], errors: list[str], raw: dict[str, Any]
) -> None:
    """Every repetition's numbers, the medians, each worker's full result and the context."""
    data = {
        "info": info,
        "rows": [
            asdict(row)
            | {
                "rh_median": row.median(RH),
                "ml_median": row.median(ML),
                "aim_median": row.median(AIM),
                "rh_x": row.advantage(ML),
                "rh_x_aim": row.advantage(AIM),
            }
            for row in rows
        ],
        "errors": errors,
        "workers": raw,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
