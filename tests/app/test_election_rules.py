"""Issue 10: the revote policy and voting window frozen at opening and bound into F1."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from app.errors import ApiError
from crypto.election import ElectionRules, election_fingerprint
from tests.app.helpers import cast_payload, setup_election, voter

CHOICES = {"mayor": ["a"], "ref": ["no"]}
NOW = dt.datetime.now(dt.UTC)


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def _election(app: Any, election_id: str = "e1") -> Any:
    from app.db import new_session
    from app.models import Election

    db = new_session(app)
    return db, db.get(Election, election_id)


def test_opening_binds_policy_and_window_into_f1(app: Any, client: Any) -> None:
    from app.services import elections as election_service

    before = _ms(dt.datetime.now(dt.UTC))
    setup_election(app, "e1", voters=1, revote_policy="last-counts")
    after = _ms(dt.datetime.now(dt.UTC))
    published = client.get("/api/v1/elections/e1").get_json()
    rules = ElectionRules.from_json(published["rules"])
    assert rules.revote_policy == "last-counts" == published["revote_policy"]
    assert before <= rules.opens_at_ms <= after  # no scheduled opening: the moment of opening
    assert rules.closes_at_ms is None  # until an official closes it
    assert rules.time_granularity_s == app.config.get("BOARD_TIME_GRANULARITY_S", 3600)
    with app.app_context():
        db, election = _election(app)
        try:
            fp = election_fingerprint(
                election_service.manifest_of(election), published["election_public_key"],
                published["issuer_public_key"], bytes.fromhex(published["board_public_key"]),
                published["roll"], published["rules"])
            assert fp.hex() == published["fingerprint"]
            # the same election with another policy or window has another fingerprint
            for changed in ({**published["rules"], "revote_policy": "no-revote"},
                            {**published["rules"], "voting_window": {
                                "opens_at": rules.opens_at_ms, "closes_at": after + 1}}):
                election.rules_json = json.dumps(changed)
                assert election_service.compute_fingerprint(election) != fp
        finally:
            db.rollback()
            db.close()


def test_scheduled_window_is_bound_exactly(app: Any, client: Any) -> None:
    from app.services import elections as election_service

    setup_election(app, "e1", voters=1, open_it=False)
    opens = (NOW - dt.timedelta(minutes=30)).replace(microsecond=0)
    closes = (NOW + dt.timedelta(days=1)).replace(microsecond=0)
    with app.app_context():
        db, election = _election(app)
        election_service.update_draft(db, election, opens_at=opens, closes_at=closes)
        election_service.open_election(db, election)
        db.commit()
        db.close()
    rules = client.get("/api/v1/elections/e1").get_json()["rules"]
    assert rules["voting_window"] == {"opens_at": _ms(opens), "closes_at": _ms(closes)}
    assert rules["revote_policy"] == "no-revote"


def test_opening_after_the_scheduled_close_is_refused(app: Any) -> None:
    from app.services import elections as election_service

    setup_election(app, "e1", voters=1, open_it=False)
    with app.app_context():
        db, election = _election(app)
        try:
            election_service.update_draft(db, election, opens_at=NOW - dt.timedelta(days=2),
                                          closes_at=NOW - dt.timedelta(days=1))
            with pytest.raises(ApiError, match="already passed") as caught:
                election_service.open_election(db, election)
            assert (caught.value.status, caught.value.code) == (409, "invalid_window")
        finally:
            db.rollback()
            db.close()


def test_voting_cannot_start_before_the_bound_opening(app: Any) -> None:
    from app.services import elections as election_service

    setup_election(app, "e1", voters=1, open_it=False, credential_policy="period")
    with app.app_context():
        db, election = _election(app)
        try:
            election_service.update_draft(db, election, opens_at=NOW + dt.timedelta(days=1))
            election_service.open_election(db, election)
            assert election_service.phase(election) == "credentials"
            with pytest.raises(ApiError, match="scheduled opening") as caught:
                election_service.start_voting(db, election)
            assert (caught.value.status, caught.value.code) == (409, "window_bound")
        finally:
            db.rollback()
            db.close()


def test_server_refuses_a_cast_outside_the_bound_window(app: Any, client: Any) -> None:
    """The server's entry check uses the bound window (eq. F2), not only the phase: a cast
    at or after the bound close is refused even if the mutable column said otherwise."""
    emails = setup_election(app, "e1", voters=1)
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    payload = cast_payload(vc, election, wallet, CHOICES)
    from app.services import casting

    with app.app_context():
        db, row = _election(app)
        rules = json.loads(row.rules_json)
        db.close()
    past = rules["voting_window"]["opens_at"] + 1
    original = casting.board_core.coarse_ms

    def late(ms: int | None = None, granularity_s: int | None = None) -> int:
        return past + 3_600_000 * 24  # a day after opening
    rules["voting_window"]["closes_at"] = past  # (tested on the check, F1 untouched)
    with app.app_context():
        db, row = _election(app)
        row.rules_json = json.dumps(rules)
        db.commit()
        db.close()
    casting.board_core.coarse_ms = late  # type: ignore[assignment]
    try:
        response = client.post("/api/v1/elections/e1/ballots", json=payload)
    finally:
        casting.board_core.coarse_ms = original  # type: ignore[assignment]
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "window_closed"
    assert "not before the window closes" in response.get_json()["error"]["message"]


def test_cast_at_uses_the_granularity_bound_at_opening(app: Any, client: Any) -> None:
    """Changing ``BOARD_TIME_GRANULARITY_S`` after opening cannot make board times finer:
    ``cast_at`` is floored to the ``time_granularity_s`` frozen in the election's rules."""
    emails = setup_election(app, "e1", voters=1)
    with app.app_context():
        db, row = _election(app)
        bound = json.loads(row.rules_json)["time_granularity_s"]
        db.close()
    vc = voter(client, emails[0])
    election = vc.get_election("e1")
    wallet = vc.obtain_credential(election)
    payload = cast_payload(vc, election, wallet, CHOICES)
    before = app.config.get("BOARD_TIME_GRANULARITY_S")
    app.config["BOARD_TIME_GRANULARITY_S"] = 1  # an operator lowers the setting mid-election
    try:
        response = client.post("/api/v1/elections/e1/ballots", json=payload)
    finally:
        app.config["BOARD_TIME_GRANULARITY_S"] = before
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    entries = client.get("/api/v1/elections/e1/board").get_json()["entries"]
    cast_at = [item["entry"]["cast_at"] for item in entries if item["entry"]["kind"] == "ballot"]
    assert cast_at and all(t % (bound * 1000) == 0 for t in cast_at), (cast_at, bound)
