"""docs/compatibility.md lists every member of the original classes, with a known status."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT.parent / "shared" / "api_manifest.json"
STATUSES = {"supported", "local meaning", "refused"}


def test_every_manifest_member_has_a_row_with_a_status() -> None:
    text = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    classes = json.loads(MANIFEST.read_text("utf-8"))["classes"]
    for cls, members in classes.items():
        section = text.split(f"\n### {cls}\n", 1)[1].split("\n### ", 1)[0]
        rows = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \|", section, re.MULTILINE))
        for member in members:
            assert member["name"] in rows, f"{cls}.{member['name']} is not in the table"
            assert rows[member["name"]].strip() in STATUSES, f"{cls}.{member['name']}"
