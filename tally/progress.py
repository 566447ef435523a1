"""The progress callback every long check and the tally take."""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(stage, done, total)``: called as each stage advances (a CLI draws a bar).
ProgressFn = Callable[[str, int, int], None]
