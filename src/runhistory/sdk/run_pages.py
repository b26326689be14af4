"""Lazy run listings: the pages of a listing fetched one at a time, as the caller iterates.

``Run.list``, ``Experiment.get_runs`` and ``Run.get_children`` return generators, as in the
original SDK: taking the first ten runs of an experiment with a million costs one small
request, and iterating all of them keeps one page in memory at a time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from runhistory.tracking.entities import RunInfo, RunsPage

T = TypeVar("T")

# The first page is small (most callers want the newest few runs); later ones grow, so that
# iterating every run takes few requests. Memory stays bounded by the largest page.
PAGE_SIZES = (50, 100, 200, 500, 1000)


def lazy_runs(
    fetch: Callable[[int, str | None], RunsPage],
    make: Callable[[RunInfo], T],
    sizes: Sequence[int] = PAGE_SIZES,
) -> Iterator[T]:
    """Every run of a listing, fetched page by page with ``fetch(page_size, page_token)``
    (the n-th page asks for ``sizes[n]`` runs, the last size thereafter).

    Nothing is fetched until the first item is asked for.
    """
    token: str | None = None
    for number in itertools.count():
        page = fetch(sizes[min(number, len(sizes) - 1)], token)
        for info in page.items:
            yield make(info)
        token = page.next_page_token
        if token is None:
            return
