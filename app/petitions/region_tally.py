"""Region tallies: snapshot the folded product for the trustees, collect and verify their
partial decryptions, combine them, and publish the region results."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import iso_z
from app.config import setting
from app.errors import ApiError
from app.models import utcnow
from app.petitions.counts import _fold
from app.petitions.models import Petition, PetitionBoardEntry, PetitionCount, PetitionTally
from app.petitions.parameters import election_key, fingerprint_of, params_of, regions_of, scope_id
from crypto.encoding import hex_to_int
from crypto.errors import CryptoError
from crypto.threshold import PartialDecryption, verify_partial_decryption
from tally import petition as ptally


def request_tally(db: Session, p: Petition, reason: str = "on_demand") -> PetitionTally:
    """Snapshot the folded product for the trustees (moderator on demand, and at close)."""
    if p.state not in ("open", "closed"):
        raise ApiError(409, "illegal_transition", "only open or closed petitions are tallied")
    _fold(db, p)
    row = db.get(PetitionCount, p.id)
    assert row is not None
    existing = db.scalars(select(PetitionTally).where(PetitionTally.petition_id == p.id,
                                                      PetitionTally.tree_size == row.folded_size)
                          .order_by(PetitionTally.id.desc())).first()
    if existing is not None and existing.count == row.count:
        return existing
    if reason != "close":  # at close the tally is recorded; rule D1 still guards decryption
        try:
            ptally.check_differential(counted_at(db, p.id, row.folded_size),
                                      decrypted_sets(db, p.id), min_difference())
        except ptally.DifferentialTally as exc:
            raise ApiError(409, "differential_tally", str(exc)) from exc
    t = PetitionTally(petition_id=p.id, tree_size=row.folded_size, count=row.count,
                      product_hex=row.product_hex, partials_json="[]", reason=reason)
    db.add(t)
    db.flush()
    return t


def min_difference() -> int:
    return int(setting("PETITION_TALLY_MIN_DIFFERENCE"))


def counted_at(db: Session, petition_id: int, tree_size: int) -> frozenset[int]:
    """Counted signatures among the first ``tree_size`` board entries (invalidations before
    ``tree_size`` remove their target) — :func:`tally.petition.counted_set` over the rows."""
    rows = db.execute(select(PetitionBoardEntry.leaf_index, PetitionBoardEntry.kind,
                             PetitionBoardEntry.entry_json)
                      .where(PetitionBoardEntry.petition_id == petition_id,
                             PetitionBoardEntry.leaf_index < tree_size)
                      .order_by(PetitionBoardEntry.leaf_index)).all()
    sigs = {i for i, kind, _ in rows if kind == "signature"}
    for _, kind, entry_json in rows:
        if kind == "invalidation":
            sigs.discard(json.loads(entry_json).get("target_index"))
    return frozenset(sigs)


def decrypted_sets(db: Session, petition_id: int, *, exclude: int | None = None
                   ) -> list[frozenset[int]]:
    """Counted sets of the petition's tallies that are decrypted or have a partial."""
    out = []
    for t in db.scalars(select(PetitionTally).where(PetitionTally.petition_id == petition_id)):
        if t.id == exclude:
            continue
        if t.results_json is not None or json.loads(t.partials_json):
            out.append(counted_at(db, petition_id, t.tree_size))
    return out


def encrypted_tally(p: Petition, t: PetitionTally) -> ptally.EncryptedRegionTally:
    return ptally.EncryptedRegionTally(scope_id(p.id), t.tree_size, t.count,
                                       hex_to_int(t.product_hex, "product"))


def get_tally(db: Session, p: Petition, tally_id: object) -> PetitionTally:
    t = db.get(PetitionTally, tally_id) if isinstance(tally_id, int) else None
    if t is None or t.petition_id != p.id:
        raise ApiError(404, "not_found", "unknown tally")
    return t


def add_partial(db: Session, p: Petition, t: PetitionTally, partial_json: object) -> None:
    """A trustee's partial decryption: verified now (400 if not); combined once k are in."""
    if t.results_json is not None:
        raise ApiError(409, "decrypted", "this tally is already decrypted")
    try:
        ptally.check_differential(counted_at(db, p.id, t.tree_size),
                                  decrypted_sets(db, p.id, exclude=t.id), min_difference())
    except ptally.DifferentialTally as exc:
        raise ApiError(409, "differential_tally", str(exc)) from exc
    try:
        partial = PartialDecryption.from_json(partial_json)
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_partial", f"malformed partial decryption: {exc}") from exc
    tpk, fp, et = election_key(p), fingerprint_of(p), encrypted_tally(p, t)
    try:
        verify_partial_decryption(tpk, et.c, partial, fingerprint=fp, context=et.context)
    except CryptoError as exc:
        raise ApiError(400, "invalid_partial", str(exc)) from exc
    partials = [PartialDecryption.from_json(x) for x in json.loads(t.partials_json)]
    if any(x.index == partial.index for x in partials):
        raise ApiError(409, "duplicate_partial", "this trustee already posted a partial decryption")
    partials.append(partial)
    t.partials_json = json.dumps([x.to_json() for x in partials])
    if len(partials) >= tpk.threshold:
        try:
            result = ptally.combine_regions(tpk, params_of(p), et, partials, fingerprint=fp)
        except CryptoError as exc:
            raise ApiError(409, "decryption_failed", str(exc)) from exc
        t.results_json = json.dumps(result.to_json())
        t.decrypted_at = utcnow()
    db.flush()


def tally_json(p: Petition, t: PetitionTally) -> dict[str, Any]:
    return {"id": t.id, "reason": t.reason, "encrypted": encrypted_tally(p, t).to_json(),
            "context": list(encrypted_tally(p, t).context),
            "partials": json.loads(t.partials_json),
            "results": json.loads(t.results_json) if t.results_json else None,
            "created_at": iso_z(t.created_at), "decrypted_at": iso_z(t.decrypted_at)}


def latest_results(db: Session, p: Petition) -> tuple[PetitionTally, dict[str, Any]] | None:
    t = db.scalars(select(PetitionTally).where(PetitionTally.petition_id == p.id,
                                               PetitionTally.results_json.is_not(None))
                   .order_by(PetitionTally.tree_size.desc(), PetitionTally.id.desc())).first()
    if t is None or t.results_json is None:
        return None
    return t, json.loads(t.results_json)


def region_results_json(db: Session, p: Petition) -> dict[str, Any] | None:
    found = latest_results(db, p)
    if found is None:
        return None
    t, res = found
    labels = {r.id: r.label for r in regions_of(p)}
    return {"tally_id": t.id, "tree_size": res["tree_size"], "count": res["count"],
            "decrypted_at": iso_z(t.decrypted_at), "trustees_used": res["trustees_used"],
            "regions": [{"id": rid, "label": labels.get(rid, rid), "count": n}
                        for rid, n in res["counts"].items()]}
