"""Query parameters several routes share, with the bounds that keep them storable.

Every integer that reaches the database fits in 64 bits: a bigger one is refused with 400
naming the parameter (the database driver would otherwise fail with an overflow).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from runhistory.server.responses import DEFAULT_LIMIT, MAX_LIMIT

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="items to skip")]
Step = Annotated[int | None, Query(ge=INT64_MIN, le=INT64_MAX, description="a metric step")]
Count = Annotated[int, Query(ge=0, le=INT64_MAX)]
PageToken = Annotated[
    str | None,
    Query(max_length=2048, description="the next_page_token of the previous page"),
]

__all__ = [
    "DEFAULT_LIMIT", "INT64_MAX", "INT64_MIN", "MAX_LIMIT", "Count", "Limit", "Offset",
    "PageToken", "Step",
]  # fmt: skip
