"""Readable names for runs MLflow's clients create without one: ``<adjective>-<noun>-<number>``
(``brisk-heron-417``), as MLflow's own server names them. The words are runhistory's own."""

from __future__ import annotations

import random

ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "coral", "crisp", "dapper", "eager", "fleet",
    "gentle", "glad", "golden", "hardy", "humble", "jolly", "keen", "lively", "lucid", "mellow",
    "merry", "misty", "nimble", "noble", "patient", "plucky", "proud", "quiet", "rapid",
    "rustic", "serene", "shy", "silver", "sleek", "steady", "sunny", "swift", "tidy", "vivid",
    "witty",
)  # fmt: skip
NOUNS = (
    "badger", "beacon", "birch", "brook", "canyon", "cedar", "comet", "cricket", "delta",
    "ember", "falcon", "fern", "fjord", "gecko", "glacier", "harbor", "heron", "island",
    "kestrel", "lantern", "lynx", "maple", "meadow", "meteor", "moth", "nebula", "orchid",
    "otter", "pebble", "pine", "quarry", "raven", "reef", "sparrow", "summit", "thistle",
    "tundra", "walrus", "willow", "yak",
)  # fmt: skip
_PICK = random.SystemRandom()


def random_run_name() -> str:
    """A new readable run name, such as ``brisk-heron-417`` (not unique: a label, not an id)."""
    number = _PICK.randrange(1000)
    return f"{_PICK.choice(ADJECTIVES)}-{_PICK.choice(NOUNS)}-{number}"
