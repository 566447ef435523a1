"""A small progress bar for long work (key ceremony, tally, verify), on stderr.

Silent when stderr is not a terminal unless forced, so JSON output stays clean.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress("verifying ballots", total) as bar: bar.advance()``."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._start = time.monotonic()

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        self._draw()

    def note(self, text: str) -> None:
        """Update the label (e.g. 'testing candidate 37')."""
        self.label = text
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        elapsed = now - self._start
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * 30)
            bar = "#" * filled + "-" * (30 - filled)
            text = f"\r{self.label:<28} [{bar}] {self.done}/{self.total} {elapsed:6.1f}s"
        else:
            text = f"\r{self.label:<28} {self.done} {elapsed:6.1f}s"
        self.stream.write(text + "\x1b[K")
        self.stream.flush()


class StageProgress:
    """Adapts ``progress(stage, done, total)`` callbacks to one bar per stage."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Progress | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = Progress(stage, total, enabled=self.enabled).__enter__()
        assert self.bar is not None
        self.bar.advance(done - self.bar.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
