"""docs/compatibility.md lists every member of the original classes, with a known status."""

from __future__ import annotations

import re
from pathlib import Path

from support.original_api import original_members

ROOT = Path(__file__).resolve().parents[2]
STATUSES = {"supported", "local meaning", "refused"}


def test_every_manifest_member_has_a_row_with_a_status() -> None:
    text = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    classes = original_members()
    for cls, members in classes.items():
        section = text.split(f"\n### {cls}\n", 1)[1].split("\n### ", 1)[0]
        rows = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \|", section, re.MULTILINE))
        for member in members:
            assert member["name"] in rows, f"{cls}.{member['name']} is not in the table"
            assert rows[member["name"]].strip() in STATUSES, f"{cls}.{member['name']}"
