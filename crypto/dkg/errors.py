"""Errors of the distributed key generation (docs §4.7.8).

Every error that blames a trustee carries ``culprit`` (the trustee index) and says
``trustee <i>`` in its message, so that an operator can name who cheated.
"""

from __future__ import annotations

from crypto.errors import CryptoError


class DkgError(CryptoError):
    """The run aborted; ``culprit`` is the blamed trustee index, or ``None``."""

    def __init__(self, message: str, culprit: int | None = None) -> None:
        super().__init__(message)
        self.culprit = culprit


class DkgTimeout(DkgError):
    """Some trustee's message never arrived."""


class ParameterMismatch(DkgError):
    """A trustee announced different run parameters (trustees, threshold, bits, …)."""


class InvalidEnvelope(DkgError):
    """A message whose signature, encryption or header does not check."""


class ReplayedMessage(InvalidEnvelope):
    """A message from an earlier round, a repeated sequence number, or for another run."""


class InvalidDkgShare(DkgError):
    """A re-sharing share that does not match its sender's Feldman commitments (D11)."""


class InvalidCommitment(DkgError):
    """A malformed commitment, biprimality value, or opened value."""


class FalseComplaint(DkgError):
    """A trustee complained about a share that is in fact correct."""


class KeyConfirmationFailed(DkgError):
    """The key does not decrypt the confirmation ciphertext (D15)."""


class InvalidTranscript(DkgError):
    """A published key-generation transcript fails a check (docs §4.7.9)."""


class CheatingTrustee(DkgError):
    """The blame round (docs §4.7.10) found a trustee whose signed messages differ from
    what the protocol computes from its revealed run secrets, or who would not reveal them."""


class BlameInconclusive(DkgError):
    """The blame round replayed every trustee and found no deviation in the replayed batch."""
