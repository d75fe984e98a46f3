"""Loaded by the no-network test (PYTHONPATH=tests/no_network): refuse and record any network socket.

An audit hook sees every socket the Python side creates, connects, binds or resolves (DNS). Unix sockets (the
X11 connection, D-Bus) are local and allowed; any other family is written to $GHOSTPILOT_NETWORK_LOG and the
call is refused. Sockets opened by native code without Python are checked separately, through /proc, by the
test itself.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

LOG = os.environ.get("GHOSTPILOT_NETWORK_LOG", "")
LOCAL_FAMILIES = {int(socket.AF_UNIX)}


def _family(sock: Any, fallback: Any = None) -> int | None:
    family = getattr(sock, "family", fallback)
    return None if family is None else int(family)


def _refuse(event: str, detail: str) -> None:
    if LOG:
        with open(LOG, "a") as out:
            out.write(f"{os.getpid()} {event} {detail}\n")
    raise PermissionError(f"network access refused by the no-network test: {event} {detail}")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.__new__":
        family = int(args[1]) if len(args) > 1 and args[1] not in (-1, None) else int(socket.AF_INET)
        if family not in LOCAL_FAMILIES:
            _refuse(event, f"family={family}")
    elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        if _family(args[0]) not in LOCAL_FAMILIES:
            _refuse(event, repr(args[1:]))
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        _refuse(event, repr(args[:2]))


if LOG:
    sys.addaudithook(_hook)
    with open(LOG, "a") as out:
        out.write(f"{os.getpid()} hook-installed\n")
