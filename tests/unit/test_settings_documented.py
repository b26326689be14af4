"""Every setting is documented in docs/settings.md, and the page names no other setting."""

from __future__ import annotations

import re
from pathlib import Path

from runhistory.settings import SETTINGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
ROW = re.compile(r"^\|\s*`(RUNHISTORY_[A-Z0-9_]+)`\s*\|\s*([a-z]+)\s*\|", re.MULTILINE)


def _documented() -> dict[str, str]:
    """Setting name -> type column of each table row of the settings page."""
    return dict(ROW.findall(DOC.read_text(encoding="utf-8")))


def test_every_setting_has_a_row() -> None:
    missing = sorted(set(SETTINGS) - set(_documented()))
    assert not missing, f"settings missing from {DOC}: {missing}"


def test_documented_types_match() -> None:
    documented = _documented()
    wrong = {
        name: (documented[name], setting.type.__name__)
        for name, setting in SETTINGS.items()
        if name in documented and documented[name] != setting.type.__name__
    }
    assert not wrong, f"type column differs from settings.py (doc, code): {wrong}"


def test_page_names_no_unknown_setting() -> None:
    mentioned = set(re.findall(r"RUNHISTORY_[A-Z0-9_]+", DOC.read_text(encoding="utf-8")))
    unknown = sorted(mentioned - set(SETTINGS))
    assert not unknown, f"{DOC} names settings that do not exist: {unknown}"
