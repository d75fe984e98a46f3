"""The doctor's reading of macOS permissions (the system calls themselves need a Mac: app/macos_permissions.py)."""

from __future__ import annotations

import sys

import pytest

from app.macos_permissions import Permissions, interpret, read_permissions


def test_denied_permissions_fail_with_the_pane_to_open() -> None:
    status, detail, fix = interpret(Permissions(accessibility=True, screen_recording=False, input_monitoring=False))
    assert status == "fail" and "Screen Recording, Input Monitoring" in detail
    assert "Privacy & Security" in fix and "Accessibility" not in fix


def test_unknown_permissions_warn_and_granted_ones_pass() -> None:
    assert interpret(Permissions(True, True, None))[:2] == ("warn", "macOS has not been asked for Input Monitoring yet")
    assert interpret(Permissions(True, True, True))[0] == "ok"
    assert interpret(Permissions(False, None, True))[0] == "fail"  # a refusal outranks an open question


@pytest.mark.skipif(sys.platform == "darwin", reason="on a Mac the real calls run")
def test_reading_them_elsewhere_is_an_error_not_a_guess() -> None:
    with pytest.raises(RuntimeError, match="only on macOS"):
        read_permissions()
