"""Manifests shared by unit, property and integration tests."""

from crypto.election import Manifest


def demo_manifest(election_id: str = "test-election") -> Manifest:
    return Manifest.from_json({
        "election_id": election_id,
        "title": "Test election",
        "questions": [
            {"id": "mayor", "title": "Mayor (choose one)", "min_selections": 1, "max_selections": 1,
             "options": [{"id": "aigerim", "label": "Aigerim"}, {"id": "bolat", "label": "Bolat"},
                         {"id": "dana", "label": "Dana"}]},
            {"id": "council", "title": "Council (choose 1 to 2)", "min_selections": 1,
             "max_selections": 2,
             "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"},
                         {"id": "c", "label": "C"}]},
            {"id": "budget", "title": "Approve the budget?", "min_selections": 0,
             "max_selections": 1,
             "options": [{"id": "yes", "label": "Yes"}]},
        ],
    })
