"""The petition state machine: every legal transition, and illegal ones raise."""

from __future__ import annotations

import itertools

import pytest

from app.petitions.lifecycle import (
    EVENTS,
    FLAGS,
    STATES,
    Flags,
    IllegalTransition,
    can,
    check_flag,
    public_filter,
    transition,
)

LEGAL = {
    ("draft", "submit"): "collecting_sponsors",
    ("collecting_sponsors", "sponsors_complete"): "pending_moderation",
    ("pending_moderation", "approve"): "open",
    ("pending_moderation", "reject"): "rejected",
    ("open", "close"): "closed",
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(STATES, EVENTS)))
def test_transition_table(state, event):
    if (state, event) in LEGAL:
        assert transition(state, event) == LEGAL[(state, event)]
        assert can(state, event)
    else:
        assert not can(state, event)
        with pytest.raises(IllegalTransition):
            transition(state, event)


def test_unknown_state_and_event_raise():
    with pytest.raises(IllegalTransition):
        transition("bogus", "submit")
    with pytest.raises(IllegalTransition):
        transition("draft", "bogus")


def test_terminal_states():
    for state in ("rejected", "closed"):
        for event in EVENTS:
            with pytest.raises(IllegalTransition):
                transition(state, event)


def test_threshold_flags_only_while_open_and_once():
    check_flag("open", Flags(), "response_threshold_reached")
    check_flag("open", Flags(), "debate_threshold_reached")
    for state in STATES:
        if state != "open":
            with pytest.raises(IllegalTransition):
                check_flag(state, Flags(), "response_threshold_reached")
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(response_threshold_reached=True), "response_threshold_reached")


def test_response_needs_threshold_and_happens_once():
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(), "responded")
    reached = Flags(response_threshold_reached=True)
    check_flag("open", reached, "responded")
    check_flag("closed", reached, "responded")
    for state in ("draft", "collecting_sponsors", "pending_moderation", "rejected"):
        with pytest.raises(IllegalTransition):
            check_flag(state, reached, "responded")
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(response_threshold_reached=True, responded=True), "responded")


def test_debate_needs_debate_threshold():
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(response_threshold_reached=True), "debated")
    check_flag("closed", Flags(debate_threshold_reached=True), "debated")
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(debate_threshold_reached=True, debated=True), "debated")


def test_unknown_flag_raises():
    with pytest.raises(IllegalTransition):
        check_flag("open", Flags(), "famous")
    assert set(FLAGS) == {"response_threshold_reached", "debate_threshold_reached", "responded", "debated"}


def test_public_filters():
    awaiting = Flags(response_threshold_reached=True)
    assert public_filter("open", awaiting, "awaiting_response")
    assert public_filter("closed", awaiting, "awaiting_response")
    assert not public_filter("open", Flags(response_threshold_reached=True, responded=True),
                             "awaiting_response")
    assert public_filter("closed", Flags(responded=True), "responded")
    assert public_filter("rejected", Flags(), "rejected")
    assert not public_filter("open", Flags(), "closed")
