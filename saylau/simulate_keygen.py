"""``saylau simulate --keygen distributed``: every simulated trustee runs
``saylau trustee keygen``'s code (:func:`saylau.cmd_keygen.run_trustee`) in its own
thread, logged in as its own trustee account, over the served relay."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from crypto.dkg.params import DkgParams
from crypto.dkg.protocol import DkgParty, DkgResult
from crypto.threshold import KeyShare, ThresholdPublicKey

#: The trustee class the simulation runs (tests plant a biprime to stay fast).
PARTY_CLASS: type[DkgParty] = DkgParty
#: Sieve batch (0: sized to the relay's message limit); tests make it small.
BATCH = 0


def distributed_keygen(base_url: str, election: str, emails: list[str], password: str,
                       bits: int, trustees: int, threshold: int, test_keys: bool, *,
                       progress: Callable[[str], None] | None = None,
                       ) -> tuple[ThresholdPublicKey, list[KeyShare], int]:
    """Run the trustees; returns the public key, the shares in index order, and the
    number of candidates tried.  Raises the first trustee's error."""
    from saylau.cmd_keygen import run_trustee
    from saylau.voter_client import VoterClient

    params = DkgParams(bits, trustees, threshold, BATCH, allow_test_key=test_keys)
    results: dict[int, DkgResult] = {}
    errors: dict[int, BaseException] = {}

    def go(index: int) -> None:
        try:
            client = VoterClient(base_url)
            client.login(emails[index - 1], password)
            results[index] = run_trustee(client, election=election, run="simulation",
                                         index=index, params=params,
                                         party_class=PARTY_CLASS,
                                         progress=progress if index == 1 else None)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors[index] = exc

    threads = [threading.Thread(target=go, args=(i,), daemon=True)
               for i in range(1, trustees + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[min(errors)]
    first: Any = results[1]
    return (first.public_key, [results[i].share for i in range(1, trustees + 1)],
            first.candidates)
