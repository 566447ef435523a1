"""Server-side receipt check (the board's "check my receipt" form).

The voter client checks receipts itself (:mod:`saylau.voter_client`); this page is a
convenience that performs the same steps against the board's current state.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app import jsontext
from app.models import Election
from app.services import board as board_service
from crypto.errors import CryptoError
from crypto.merkle import ConsistencyProof, InclusionProof
from crypto.tree_head import (
    SignedTreeHead,
    verify_receipt_inclusion,
    verify_tree_head_consistency,
)


class ReceiptError(ValueError):
    """The receipt does not hold (message says which step failed)."""


def check_receipt_json(db: Session, election: Election, text: str) -> None:
    try:
        receipt = jsontext.loads(text)
        if not isinstance(receipt, dict):
            raise ValueError
        sth = SignedTreeHead.from_json(receipt.get("tree_head"))
        proof = InclusionProof.from_json(receipt.get("inclusion_proof"))
        leaf = bytes.fromhex(str(receipt.get("leaf_hash", "")))
        tracker = str(receipt.get("tracker", ""))
    except (ValueError, CryptoError) as exc:
        raise ReceiptError(_("this is not a Saylau receipt (choose or paste the JSON file you saved)")) from exc
    pk = bytes.fromhex(election.board_public_hex)
    try:
        verify_receipt_inclusion(pk, sth, leaf, proof)
    except CryptoError as exc:
        raise ReceiptError(_("the receipt itself does not verify: %(error)s", error=str(exc))) from exc
    row = board_service.by_tracker(db, election.id, tracker)
    if row is None or row.leaf_hash != leaf.hex() or row.leaf_index != proof.leaf_index:
        raise ReceiptError(_("no board entry matches this receipt's tracker and leaf"))
    latest = board_service.latest_head(db, election.id)
    if latest is None:
        raise ReceiptError(_("the board has no tree head"))
    new = SignedTreeHead.from_json(board_service.head_json(latest, election.id))
    try:
        cons = ConsistencyProof.from_json(board_service.consistency(
            db, election.id, sth.tree_size, new.tree_size))
        verify_tree_head_consistency(pk, sth, new, cons)
    except CryptoError as exc:
        raise ReceiptError(_("the board is not consistent with your receipt: %(error)s", error=str(exc))) from exc
