"""Progress bars for the long commands: drawn on a terminal, left out when the output goes to
a pipe, a file or a journal (which get the command's own lines only)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

#: ``progress(done, total)``: the steps done so far of a total that may grow as work is found
Progress = Callable[[int, int], None]


@contextlib.contextmanager
def bar(label: str) -> Iterator[Progress]:
    """A ``progress(done, total)`` callback drawing one bar on a terminal, silent elsewhere."""
    shown = click.progressbar(length=1, label=label, hidden=not sys.stdout.isatty())
    with shown:

        def progress(done: int, total: int) -> None:
            shown.length = max(total, 1)
            shown.update(done - shown.pos)

        yield progress
