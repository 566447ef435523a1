"""The background worker: folds counts, closes expired petitions, prunes rate events."""

from __future__ import annotations

import threading

from flask import Flask

from app.config import DEFAULTS
from app.db import new_session
from app.petitions.counts import refresh_counts
from app.petitions.decisions import close_expired
from app.petitions.fraud import prune_events


def start_count_worker(app: Flask, interval_s: float | None = None) -> threading.Event:
    """Background thread: ``refresh_counts`` and ``close_expired`` every few seconds.

    Returns an Event; set it to stop the thread.
    """
    stop = threading.Event()
    interval = float(interval_s if interval_s is not None
                     else app.config.get("PETITION_COUNT_INTERVAL_S", DEFAULTS["PETITION_COUNT_INTERVAL_S"]))

    def run() -> None:
        while not stop.wait(interval):
            with app.app_context():
                db = new_session(app)
                try:
                    refresh_counts(db)
                    close_expired(db)
                    prune_events(db)
                    db.commit()
                except Exception:  # noqa: BLE001 - keep the worker alive; log and retry
                    db.rollback()
                    app.logger.exception("petition count worker")
                finally:
                    db.close()

    threading.Thread(target=run, name="petition-counts", daemon=True).start()
    return stop
