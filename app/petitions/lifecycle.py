"""The petition state machine — the one place that says which change is legal.

States::

    draft → collecting_sponsors → pending_moderation → open → closed
                                                     ↘ rejected

Flags on an open or closed petition: ``response_threshold_reached``,
``debate_threshold_reached`` (set by the count job), ``responded`` (a moderator
publishes the government's response, once the response threshold is reached) and
``debated`` (a moderator records the debate outcome, once the debate threshold is
reached).  Every service call asks :func:`transition` or :func:`check_flag` first;
an illegal change raises :class:`IllegalTransition` (the API answers 409).
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("draft", "collecting_sponsors", "pending_moderation", "open", "rejected", "closed")
EVENTS = ("submit", "sponsors_complete", "approve", "reject", "close")
FLAGS = ("response_threshold_reached", "debate_threshold_reached", "responded", "debated")
REJECTION_CODES = ("duplicate", "not_responsibility", "offensive", "unclear", "already_exists",
                   "other")
#: public list filters (``GET /api/v1/petitions?state=``)
PUBLIC_FILTERS = ("open", "awaiting_response", "responded", "debated", "closed", "rejected")
#: states visible to everyone (drafts and petitions gathering sponsors or in moderation are not)
PUBLIC_STATES = ("open", "closed", "rejected")

_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "collecting_sponsors",
    ("collecting_sponsors", "sponsors_complete"): "pending_moderation",
    ("pending_moderation", "approve"): "open",
    ("pending_moderation", "reject"): "rejected",
    ("open", "close"): "closed",
}


class IllegalTransition(Exception):
    """The requested change is not allowed from the petition's current state."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"cannot {event.replace('_', ' ')} a petition that is {state.replace('_', ' ')}")
        self.state = state
        self.event = event


@dataclass(frozen=True)
class Flags:
    """The petition's flags (derived from timestamps on the row)."""

    response_threshold_reached: bool = False
    debate_threshold_reached: bool = False
    responded: bool = False
    debated: bool = False


def transition(state: str, event: str) -> str:
    """The next state after ``event``, or raise :class:`IllegalTransition`."""
    if state not in STATES:
        raise IllegalTransition(state, event)
    nxt = _TRANSITIONS.get((state, event))
    if nxt is None:
        raise IllegalTransition(state, event)
    return nxt


def can(state: str, event: str) -> bool:
    return (state, event) in _TRANSITIONS


def check_flag(state: str, flags: Flags, flag: str) -> None:
    """Raise :class:`IllegalTransition` unless ``flag`` may be set now.

    Threshold flags: on open petitions only (the count job), once.  ``responded``:
    open or closed, response threshold reached, not yet responded.  ``debated``: open or
    closed, debate threshold reached, not yet debated.
    """
    if flag not in FLAGS:
        raise IllegalTransition(state, f"set {flag}")
    if getattr(flags, flag):
        raise IllegalTransition(state, f"set {flag} again")
    if flag in ("response_threshold_reached", "debate_threshold_reached"):
        if state != "open":
            raise IllegalTransition(state, f"set {flag}")
        return
    if state not in ("open", "closed"):
        raise IllegalTransition(state, f"set {flag}")
    if flag == "responded" and not flags.response_threshold_reached:
        raise IllegalTransition(state, "respond before the response threshold")
    if flag == "debated" and not flags.debate_threshold_reached:
        raise IllegalTransition(state, "record a debate before the debate threshold")


def editable(state: str) -> bool:
    """Only drafts may be edited by their creator."""
    return state == "draft"


def accepts_sponsors(state: str) -> bool:
    return state == "collecting_sponsors"


def accepts_signatures(state: str) -> bool:
    return state == "open"


def public_filter(state: str, flags: Flags, wanted: str) -> bool:
    """Does a petition match the public list filter ``wanted``?"""
    if wanted == "open":
        return state == "open"
    if wanted == "awaiting_response":
        return state in ("open", "closed") and flags.response_threshold_reached and not flags.responded
    if wanted == "responded":
        return flags.responded
    if wanted == "debated":
        return flags.debated
    return state == wanted
