"""Goal inputs: word matching, quoted text, slot ranking, the synthetic text timeline and training targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference import goal_features
from inference.goal_features import TEXT_SLOTS, ScreenText, quoted, split_words, text_input, word_match
from inference.goal_session import GoalState
from inference.goal_suggestions import goal_click, quoted_keys


def test_word_match_counts_the_texts_words_named_by_the_goal() -> None:
    assert word_match("Click the Save button.", "Save") == 1.0
    assert word_match("Type 'x' into the Email field.", "Email:") == 1.0
    assert word_match("Click the Save button.", "Save As") == 0.5
    assert word_match("Click the Save button.", "Delete") == 0.0
    assert word_match("Open the menu", "the") == 0.0  # stop words alone never match


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ('type "hello world" in the search box', ["hello world"]),
        ("Type 'jane.doe@example.com' into the Email field.", ["jane.doe@example.com"]),
        ("Fill in the form: Name 'Jane Doe', City 'Oslo', then click Submit.", ["Jane Doe", "Oslo"]),
        ("Don't click Save", []),  # an apostrophe is not a quote
        ("click Save", []),
    ],
)
def test_quoted_text_is_what_the_goal_asks_to_type(goal: str, expected: list[str]) -> None:
    assert quoted(goal) == expected


def test_split_words_keeps_the_box_and_adds_one_per_word_in_order() -> None:
    parts = split_words(ScreenText("File Edit View", (0, 0, 140, 20)))
    assert [p.text for p in parts] == ["File Edit View", "File", "Edit", "View"]
    assert parts[1].box[0] == 0 and parts[3].box[2] == pytest.approx(140)
    assert parts[1].box[2] <= parts[2].box[0] < parts[3].box[0]
    sentence = ScreenText("one two three four five", (0, 0, 10, 10))
    assert split_words(sentence) == [sentence]


def _vectors(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, goal_features.EMBED_DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_text_input_ranks_the_named_text_first_and_fills_features() -> None:
    texts = [ScreenText(label, (100 * i, 10, 100 * i + 50, 30)) for i, label in enumerate(["Open", "Save", "Quit"])]
    vectors = _vectors(3)
    slots, filled = text_input(texts, vectors, "Click the Save button.", vectors[1], (0, 0), 1000, 500)
    assert filled[0] == 1 and filled[3:] == [-1] * (TEXT_SLOTS - 3)
    e = goal_features.EMBED_DIM
    assert slots[0, e + 5] == 1.0 and slots[0, e + 4] == pytest.approx(1.0, abs=1e-5)  # word match, cosine
    assert slots[0, e] == pytest.approx(125 / 1000) and slots[0, -1] == 1.0 and slots[5, -1] == 0.0
    order = np.arange(TEXT_SLOTS)[::-1]
    _, shuffled = text_input(texts, vectors, "Click the Save button.", vectors[1], (0, 0), 1000, 500, order)
    assert shuffled[TEXT_SLOTS - 1] == 1


def test_without_a_goal_the_nearest_texts_fill_the_slots() -> None:
    texts = [ScreenText(str(i), (50 * i, 0, 50 * i + 20, 20)) for i in range(TEXT_SLOTS + 4)]
    _, filled = text_input(texts, _vectors(len(texts)), None, None, (1000, 10), 2000, 100)
    assert sorted(filled) == list(range(4, TEXT_SLOTS + 4))  # the 4 farthest are left out


def test_goal_click_goes_to_the_pointed_text_plus_its_offset_and_none_means_no_ghost() -> None:
    slots: list[ScreenText | None] = [ScreenText("Name:", (100, 100, 150, 120)), None] + [None] * (TEXT_SLOTS - 2)
    logits = np.full(TEXT_SLOTS + 1, -5.0)
    logits[0] = 3.0
    offsets = np.zeros((TEXT_SLOTS, 2))
    offsets[0] = (0.1, 0.0)  # one tenth of the 1000-px scale to the right: the field beside the label
    out = {"text_logits": logits, "text_offsets": offsets}
    click = goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800))
    assert click is not None and click.click == pytest.approx((225.0, 110.0))
    assert click.events[-2]["type"] == "mouse.down" and click.confidence > 0.9
    logits[TEXT_SLOTS] = 6.0
    assert goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800)) is None


def test_when_none_wins_a_text_the_goal_names_still_gets_the_click() -> None:
    """The named-text rule (docs/goal-model.md): the model doubts a click is due, but the text it points at
    most among those the goal names exactly ("Department:" for "Department") is where the goal says to act."""
    slots: list[ScreenText | None] = [
        ScreenText("hint:", (300, 100, 330, 120)), ScreenText("Password hint:", (240, 100, 330, 120)),
        ScreenText("Department:", (240, 140, 330, 160)),
    ] + [None] * (TEXT_SLOTS - 3)  # fmt: skip
    logits = np.full(TEXT_SLOTS + 1, -5.0)
    logits[[0, 1, 2, TEXT_SLOTS]] = (1.1, 1.0, 0.2, 1.6)  # "none" wins; "hint:" beats the whole label
    offsets = np.zeros((TEXT_SLOTS, 2))
    offsets[1] = (0.12, 0.0)  # the field right of the label
    out = {"text_logits": logits, "text_offsets": offsets}
    click = goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800), target="Password hint")
    assert click is not None and click.click == pytest.approx((405.0, 110.0)) and click.confidence == 0.7
    assert goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800), target="Nickname") is None  # not named
    assert goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800)) is None  # no target: "none" stands
    logits[1] = -4.0  # the model does not point at the named text at all (p < 0.05): no ghost
    assert goal_click(out, slots, (500, 400), 1.0, 1000.0, (1000, 800), target="Password hint") is None


def test_quoted_keys_continue_what_was_typed_and_stop_when_done() -> None:
    rest = quoted_keys(["hello world"], ["h", "e"], 0.0, 0.9)
    assert rest is not None and "".join(rest.keys) == "llo world"
    assert quoted_keys(["hello world"], list("hello world"), 0.0, 0.9) is None
    assert quoted_keys(["hello"], ["x"], 0.0, 0.9) is None


def test_goal_state_offers_the_quoted_text_only_after_a_click_where_the_goal_pointed() -> None:
    state = GoalState('type "hi there" in the search box')
    texts = (ScreenText("Search:", (10, 10, 60, 30)),)
    state.snapshot = goal_features.TextSnapshot(0.0, texts, _vectors(1), state.goal, _vectors(2)[1])
    state.inputs((0, 0), 800, 600)
    logits = np.full(TEXT_SLOTS + 1, -5.0)
    logits[next(i for i, s in enumerate(state.slots) if s is not None)] = 4.0
    out = {"text_logits": logits, "text_offsets": np.zeros((TEXT_SLOTS, 2))}
    found = [s for s in state.suggestions(out, (400, 300), 1.0, 800.0, (800, 600)) if s is not None]
    assert [s.kind for s in found] == ["pointer"]  # no keys before the click
    state.clicked((35, 20))
    state.key_typed("h")
    keys = [s for s in state.suggestions(out, (35, 20), 2.0, 800.0, (800, 600)) if s is not None and s.kind == "keys"]
    assert "".join(keys[0].keys) == "i there"
    state.clicked((700, 500))  # a click elsewhere: the user went another way
    assert all(s is None or s.kind != "keys" for s in state.suggestions(out, (700, 500), 3.0, 800.0, (800, 600)))


def test_synthetic_texts_reproduce_the_layout_and_open_menus(tmp_path: Path) -> None:
    from inference.episodes import read_episode
    from inference.synthetic.generate import generate_episode
    from inference.synthetic.texts import episode_texts

    for seed in range(6):
        episode = read_episode(generate_episode(tmp_path, seed, with_frames=False))
        texts = episode_texts(episode)
        assert texts is not None, seed
        labels = {t.text for t in texts.static}
        for task in episode.meta.extra["tasks"]:
            for target in task["targets"]:
                if target["kind"] in ("button", "menu", "list_item"):
                    assert target["label"] in labels
                if target["kind"] == "menu_item":  # visible only while its menu is open
                    assert target["label"] not in labels
                    shown = [(a, b) for a, b, t in texts.timed if t.text == target["label"]]
                    assert shown and shown[0][0] < shown[0][1]
