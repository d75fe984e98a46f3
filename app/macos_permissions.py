"""The three macOS privacy permissions Ghostpilot needs, read from the system without prompting (doctor).

Accessibility (to perform an accepted ghost): `AXIsProcessTrusted()` from ApplicationServices. Screen
Recording (to see the screen): `CGPreflightScreenCaptureAccess()` from CoreGraphics (macOS 10.15+). Input
Monitoring (to see keys and hear the shortcuts): `IOHIDCheckAccess(kIOHIDRequestTypeListenEvent)` from IOKit
(10.15+). All three only read the current answer; none opens a dialog. Loaded with ctypes, so no PyObjC.
Not run on a Mac in this project's CI (Linux only): `interpret` is the tested part; the calls follow Apple's
documented C signatures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass

IOHID_REQUEST_LISTEN_EVENT = 1  # kIOHIDRequestTypeListenEvent
IOHID_ACCESS = {0: True, 1: False, 2: None}  # kIOHIDAccessTypeGranted, Denied, Unknown (never asked)
SETTINGS_PANE = "System Settings > Privacy & Security"


@dataclass(frozen=True)
class Permissions:
    """True granted, False denied, None unknown (the system has not asked yet, or the call is unavailable)."""

    accessibility: bool | None
    screen_recording: bool | None
    input_monitoring: bool | None


def _framework(name: str) -> ctypes.CDLL | None:
    path = ctypes.util.find_library(name)
    if path is None:
        return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def _bool_call(library: ctypes.CDLL | None, symbol: str) -> bool | None:
    function = getattr(library, symbol, None) if library is not None else None
    if function is None:
        return None
    function.restype, function.argtypes = ctypes.c_bool, []
    return bool(function())


def read_permissions() -> Permissions:
    """Ask macOS for its current answers (raises RuntimeError on any other platform)."""
    if sys.platform != "darwin":
        raise RuntimeError("macOS permissions exist only on macOS")
    iokit = _framework("IOKit")
    check = getattr(iokit, "IOHIDCheckAccess", None) if iokit is not None else None
    listen: bool | None = None
    if check is not None:
        check.restype, check.argtypes = ctypes.c_uint32, [ctypes.c_uint32]
        listen = IOHID_ACCESS.get(int(check(IOHID_REQUEST_LISTEN_EVENT)))
    return Permissions(
        accessibility=_bool_call(_framework("ApplicationServices"), "AXIsProcessTrusted"),
        screen_recording=_bool_call(_framework("CoreGraphics"), "CGPreflightScreenCaptureAccess"),
        input_monitoring=listen,
    )


def interpret(permissions: Permissions) -> tuple[str, str, str]:
    """(status, detail, fix) for the doctor: "fail" when one is denied, "warn" when one is not known yet."""
    names = {
        "Accessibility": permissions.accessibility,
        "Screen Recording": permissions.screen_recording,
        "Input Monitoring": permissions.input_monitoring,
    }
    denied = [name for name, granted in names.items() if granted is False]
    unknown = [name for name, granted in names.items() if granted is None]
    if denied:
        fix = f"allow {', '.join(denied)} for this app (or its terminal) in {SETTINGS_PANE}, then restart it"
        return "fail", f"macOS has not granted {', '.join(denied)}", fix
    if unknown:
        fix = f"start Ghostpilot once and answer the prompts, or allow them in {SETTINGS_PANE}"
        return "warn", f"macOS has not been asked for {', '.join(unknown)} yet", fix
    return "ok", "macOS grants Accessibility, Screen Recording and Input Monitoring", ""
