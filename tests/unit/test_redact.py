"""Redaction: recall and precision on the labelled set in tests/data/redaction/, events and typed key streams."""

from __future__ import annotations

import re
from pathlib import Path

from app.redact import REDACTED_KEY, find_secrets, luhn_ok, redact_event, redact_key_stream, redact_text

DATA = Path(__file__).resolve().parents[1] / "data" / "redaction"
MIN_RECALL = 0.95  # of labelled secrets, fully covered by a finding of the right kind
MIN_PRECISION = 0.95  # of findings, the share that covers a labelled secret
MARKED = re.compile(r"⟦(.*?)⟧", re.DOTALL)


def _rows(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.replace("\\n", "\n") for line in lines if line and not line.startswith("#")]


def _positive(row: str) -> tuple[str, str, tuple[int, int]]:
    """(kind, clean text, span of the secret in it)."""
    kind, marked = row.split("\t", 1)
    match = MARKED.search(marked)
    assert match is not None, row
    text = marked.replace("⟦", "").replace("⟧", "")
    return kind, text, (match.start(), match.end() - 2)


def _scores() -> tuple[float, float, list[str]]:
    hits, true_findings, false_findings, misses = 0, 0, 0, []
    for row in _rows("positives.tsv"):
        kind, text, (start, end) = _positive(row)
        findings = find_secrets(text)
        covering = [f for f in findings if f.start <= start and f.end >= end and f.kind == kind]
        hits += bool(covering)
        if not covering:
            misses.append(row)
        true_findings += len(covering)
        false_findings += len(findings) - len(covering)
    for text in _rows("negatives.tsv"):
        extra = find_secrets(text)
        false_findings += len(extra)
        misses += [f"false positive: {text[f.start : f.end]!r} in {text!r}" for f in extra]
    recall = hits / len(_rows("positives.tsv"))
    precision = true_findings / max(1, true_findings + false_findings)
    return recall, precision, misses


def test_labelled_set_is_big_enough() -> None:
    assert len(_rows("positives.tsv")) >= 50 and len(_rows("negatives.tsv")) >= 50
    kinds = {row.split("\t", 1)[0] for row in _rows("positives.tsv")}
    assert kinds == {"email", "card", "secret", "private_key"}


def test_recall_and_precision_on_the_labelled_set() -> None:
    recall, precision, misses = _scores()
    print(f"redaction recall {recall:.3f} precision {precision:.3f}")
    assert recall >= MIN_RECALL, misses
    assert precision >= MIN_PRECISION, misses


def test_redact_text_replaces_with_placeholders() -> None:
    text = "mail anna@example.org, card 4111 1111 1111 1111, key ghp_" + "a1B2" * 9
    assert redact_text(text) == "mail [EMAIL], card [CARD], key [SECRET]"
    assert redact_text("nothing to hide here") == "nothing to hide here"


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")
    assert redact_text("4111 1111 1111 1112") == "4111 1111 1111 1112"


def test_unterminated_private_key_is_redacted_to_the_end() -> None:
    text = "oops\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
    assert redact_text(text) == "oops\n[PRIVATE KEY]"


def test_redact_event_keeps_structure() -> None:
    event = {"t": 1.0, "type": "key.down", "key": "a", "source": "user", "title": "Inbox - anna@example.org"}
    assert redact_event(event) == {**event, "title": "Inbox - [EMAIL]"}
    assert event["title"] == "Inbox - anna@example.org"  # the input is not changed


def _typed(text: str, t0: float = 0.0) -> list[dict]:
    """Key events as the recorder writes them: down/up per character, shift for capitals."""
    events: list[dict] = []
    for i, char in enumerate(text):
        key = {"\n": "enter"}.get(char, char)
        t = t0 + i * 0.1
        if char.isupper():
            events.append({"t": t, "type": "key.down", "key": "shift", "source": "user"})
        events.append({"t": t + 0.01, "type": "key.down", "key": key, "source": "user"})
        events.append({"t": t + 0.02, "type": "key.up", "key": key.lower() if len(key) == 1 else key, "source": "user"})
        if char.isupper():
            events.append({"t": t + 0.03, "type": "key.up", "key": "shift", "source": "user"})
    return events


def _keys(events: list[dict]) -> str:
    return "".join(e["key"] for e in events if e["type"] == "key.down" and len(e["key"]) == 1)


def test_key_stream_hides_a_typed_token_and_keeps_the_rest() -> None:
    token = "ghp_" + "Xy7Qw3Er9Tz1" * 3
    events = _typed(f"hello {token}\nthanks")
    redacted = redact_key_stream(events)
    assert len(redacted) == len(events)
    assert _keys(redacted) == "hello " + REDACTED_KEY * len(token) + "thanks"
    ups = [e["key"] for e in redacted if e["type"] == "key.up" and len(e["key"]) == 1]
    assert ups.count(REDACTED_KEY) == len(token)  # releases hidden too ('X' pressed, 'x' released)
    assert all(r["t"] == e["t"] and r["type"] == e["type"] for r, e in zip(redacted, events, strict=True))
    assert _keys(events).startswith("hello ghp_")  # the input is not changed


def test_key_stream_follows_backspace_and_breaks_runs_on_clicks() -> None:
    events = _typed("anna@examplx")
    events.append({"t": 5.0, "type": "key.down", "key": "backspace", "source": "user"})
    events.append({"t": 5.1, "type": "key.up", "key": "backspace", "source": "user"})
    events += _typed("e.org", t0=6.0)
    click = {"t": 9.0, "type": "mouse.down", "x": 5, "y": 5, "button": "left", "source": "user"}
    events += [click, *_typed("plain words", t0=10.0)]
    keys = _keys(redact_key_stream(events))
    # 'x' was typed then deleted: it is part of the typed run but not of the address, so it stays visible
    assert keys == REDACTED_KEY * 11 + "x" + REDACTED_KEY * 5 + "plain words"


def test_key_stream_card_number() -> None:
    keys = _keys(redact_key_stream(_typed("pay 4111111111111111 now")))
    assert keys == "pay " + REDACTED_KEY * 16 + " now"


def test_hashes_and_uuids_are_not_secrets() -> None:
    """Hex digests and UUIDs fill logs and titles; the entropy rule must leave them (one case: lower hex)."""
    import hashlib
    import uuid

    for i in range(300):
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        assert (
            find_secrets(f"commit {digest[:40]} sha256 {digest} id {uuid.UUID(bytes=bytes.fromhex(digest[:32]))}") == []
        )
