"""A deterministic random source for tests and worked examples (NOT for real use).

``DRBG(seed)(bound)`` returns a uniform integer in [0, bound) by rejection sampling
over SHA-256(seed || counter) blocks — the same construction docs/protocol.md §10 uses
for its worked examples, so a second implementation can reproduce them.
"""

from __future__ import annotations

import hashlib


class DRBG:
    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0

    def _block(self) -> bytes:
        out = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
        self.counter += 1
        return out

    def __call__(self, bound: int) -> int:
        if bound <= 0:
            raise ValueError("bound must be positive")
        bits = bound.bit_length()
        nbytes = (bits + 7) // 8
        while True:
            raw = b""
            while len(raw) < nbytes:
                raw += self._block()
            value = int.from_bytes(raw[:nbytes], "big") >> (nbytes * 8 - bits)
            if value < bound:
                return value
