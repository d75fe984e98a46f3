"""Goal parsing cases and box ranking (real text encoder, hand-made OCR boxes)."""

from __future__ import annotations

import pytest

from inference.goals.grounding import GoalError, lexical_score, parse_goal, rank_boxes
from inference.goals.ocr import TextBox
from inference.goals.text_encoder import TextEncoder


@pytest.mark.parametrize(
    ("text", "verb", "target", "quoted", "steps"),
    [
        ('type "hello world" in the search box', "type", "search box", ["hello world"], ()),
        ("click Save", "click", "Save", [], ()),
        ("open the File menu", "open", "File", [], ()),
        ("Type 'jane.doe@example.com' into the Email field.", "type", "Email", ["jane.doe@example.com"], ()),
        ("Click the Save as... button.", "click", "Save as", [], ()),  # trailing dots are punctuation
        ("Open the Help menu and choose Check for updates.", "open", "Help", [], ("Check for updates",)),
        ("Select 'Q3 summary' in the list.", "select", "Q3 summary", ["Q3 summary"], ()),
        ("Fill in the form: First name 'Jane', Email 'j@x.org', then click Submit.", "fill", "First name",
         ["Jane", "j@x.org"], ("Submit",)),
        ("Zoom in", "", "Zoom in", [], ()),
        ("press \u201cOK\u201d", "press", "OK", ["OK"], ()),
        ("Type 'don't' into the Notes field", "type", "Notes", ["don't"], ()),
    ],
)  # fmt: skip
def test_parse_goal(text: str, verb: str, target: str, quoted: list[str], steps: tuple[str, ...]) -> None:
    goal = parse_goal(text)
    assert (goal.verb, goal.target, goal.quoted, goal.steps) == (verb, target, quoted, steps)
    assert goal.text == text


def test_empty_goal_is_a_clear_error() -> None:
    with pytest.raises(GoalError, match="empty"):
        parse_goal("   ")


def test_lexical_score_prefers_exact_and_tolerates_ocr_slips() -> None:
    assert lexical_score("Email", "Email:") == 1.0
    assert lexical_score("Email", "Email\uff1a") == 1.0  # a full-width colon, as the recogniser may read it
    assert lexical_score("Format", "Fomat") > 0.8
    assert lexical_score("Format", "Fomat") < 1.0
    assert lexical_score("Save", "Delete") < 0.5


def test_rank_boxes_grounds_goals_to_the_named_text() -> None:
    boxes = [
        TextBox("Delete", (10, 10, 60, 24), 0.99),
        TextBox("Save", (80, 10, 120, 24), 0.99),
        TextBox("Email:", (10, 40, 50, 54), 0.98),
        TextBox("File", (10, 80, 40, 94), 0.97),
    ]
    encoder = TextEncoder()
    vectors = encoder.embed([b.text for b in boxes])
    for text, expected in [
        ("Click the Save button.", "Save"),
        ("open the File menu", "File"),
        ("Type 'x' into the Email field.", "Email:"),
        ("remove it", "Delete"),  # no word in common: the embedding decides
    ]:
        goal = parse_goal(text)
        ranked = rank_boxes(goal, boxes, vectors, encoder.embed([goal.target])[0])
        assert ranked[0][0].text == expected, (text, ranked)
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert rank_boxes(parse_goal("click Save"), [], vectors[:0]) == []
    with pytest.raises(GoalError, match="embeddings"):
        rank_boxes(parse_goal("click Save"), boxes, vectors[:2])
