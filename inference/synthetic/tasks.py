"""Goal-directed tasks on a procedural screen: the scripted user acts, the screen state follows.

Each task picks its target elements, states its goal in plain words ("Click the Save button."), makes the
scripted user do it, and commits a copy of the UI state to the timeline at every visible change (menu
opens, hover highlight, pressed button, focus, each typed character, list selection, status message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.synthetic import vocab
from inference.synthetic.layout import Element
from inference.synthetic.screens import Screen, UIState
from inference.synthetic.user import ScriptedUser

STATUS = {"Save": "Saved.", "Delete": "Deleted 1 item.", "Send": "Message sent.", "Print": "Sent to printer."}


@dataclass
class Context:
    """What a task works on: the screen, its live state, the user, and the timeline of states."""

    screen: Screen
    user: ScriptedUser
    rng: np.random.Generator
    state: UIState = field(default_factory=UIState)
    timeline: list[tuple[float, UIState]] = field(default_factory=list)

    def commit(self, t: float) -> None:
        self.timeline.append((t, self.state.copy()))


@dataclass
class TaskRecord:
    """One task as stored in meta.json: its goal, kind, time span and the elements it had to hit."""

    kind: str
    goal: str
    t_start: float
    t_end: float
    targets: list[Element]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "goal": self.goal,
            "t_start": round(self.t_start, 3),
            "t_end": round(self.t_end, 3),
            "targets": [t.to_json() for t in self.targets],
        }


def field_value(rng: np.random.Generator, label: str) -> str:
    """A plausible value for a field, so typed text looks like office data (mixed case, digits, symbols)."""
    first = vocab.FIRST_NAMES[int(rng.integers(len(vocab.FIRST_NAMES)))]
    last = vocab.LAST_NAMES[int(rng.integers(len(vocab.LAST_NAMES)))]
    number = int(rng.integers(10, 9999))
    values = {
        "Name": f"{first} {last}",
        "First name": first,
        "Last name": last,
        "Email": f"{first.lower()}.{last.lower()}@example.com",
        "Username": f"{first.lower()}{number % 100}",
        "Phone": f"+1 555 {number:04d}",
        "City": vocab.CITIES[int(rng.integers(len(vocab.CITIES)))],
        "Company": vocab.COMPANIES[int(rng.integers(len(vocab.COMPANIES)))],
        "Amount": f"{number}.{int(rng.integers(100)):02d}",
        "Date": f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}",
        "Invoice no.": f"INV-{number:05d}",
        "Zip code": f"{number:05d}",
        "Reference": f"REF{number}",
    }
    if label in values:
        return values[label]
    words = [vocab.WORDS[int(i)] for i in rng.integers(0, len(vocab.WORDS), int(rng.integers(1, 4)))]
    return " ".join(words).capitalize()


def _choose(ctx: Context, options: list[Element]) -> Element:
    return options[int(ctx.rng.integers(len(options)))]


def click(ctx: Context, target: Element, on_down: Callable[[], None], on_up: Callable[[], None]) -> None:
    """Rest, point at `target`, press and release; the callbacks change the state at press and release."""
    ctx.user.rest()
    start = len(ctx.user.events)
    ctx.user.point_at(target.box)
    _hover(ctx, start)
    ctx.user.press()
    on_down()
    ctx.commit(ctx.user.t)
    ctx.user.release()
    on_up()
    ctx.commit(ctx.user.t)


def _hover(ctx: Context, start: int) -> None:
    """Highlight the open menu's item under the pointer as it moves (only menus react to hover here)."""
    if ctx.state.open_menu is None:
        return
    items = ctx.screen.children(ctx.screen.element(ctx.state.open_menu))
    for event in ctx.user.events[start:]:
        if event["type"] != "mouse.move":
            continue
        x, y = event["x"], event["y"]
        over = next((i.id for i in items if i.box[0] <= x < i.box[2] and i.box[1] <= y < i.box[3]), None)
        if over != ctx.state.hover:
            ctx.state.hover = over
            ctx.commit(event["t"])


def _set(ctx: Context, **changes: Any) -> Callable[[], None]:
    def apply() -> None:
        for key, value in changes.items():
            setattr(ctx.state, key, value)

    return apply


def click_button(ctx: Context, button: Element | None = None) -> TaskRecord | None:
    buttons = ctx.screen.of_kind("button")
    if button is None and not buttons:
        return None
    target = button or _choose(ctx, buttons)
    t0 = ctx.user.t
    message = STATUS.get(target.label, f"{target.label}: done.")

    def release() -> None:
        ctx.state.pressed = None
        ctx.state.status[target.window] = message

    click(ctx, target, _set(ctx, pressed=target.id, focused=None), release)
    return TaskRecord("click_button", f"Click the {target.label} button.", t0, ctx.user.t, [target])


def choose_menu(ctx: Context) -> TaskRecord | None:
    menus = ctx.screen.of_kind("menu")
    if not menus:
        return None
    menu = _choose(ctx, menus)
    item = _choose(ctx, ctx.screen.children(menu))
    t0 = ctx.user.t
    click(ctx, menu, _set(ctx, open_menu=menu.id, hover=None, focused=None), lambda: None)

    def chosen() -> None:
        ctx.state.open_menu, ctx.state.hover = None, None
        ctx.state.status[menu.window] = f"{item.label.rstrip('.')}: done."

    click(ctx, item, lambda: None, chosen)
    goal = f"Open the {menu.label} menu and choose {item.label.rstrip('.')}."
    return TaskRecord("menu", goal, t0, ctx.user.t, [menu, item])


def type_into(ctx: Context, target: Element, text: str, by_tab: bool = False) -> None:
    """Focus a field (click, or Tab from the previous field) and type `text` into it."""
    if by_tab:
        ctx.user.wait(float(ctx.rng.uniform(0.1, 0.4)))
        ctx.user.press_key("tab")
        ctx.state.focused = target.id
        ctx.commit(ctx.user.t)
    else:
        click(ctx, target, _set(ctx, focused=target.id, open_menu=None), lambda: None)
    ctx.user.wait(float(ctx.rng.uniform(0.15, 0.5)))
    for t, key in ctx.user.type_text(text):
        current = ctx.state.texts.get(target.id, "")
        ctx.state.texts[target.id] = current[:-1] if key == "backspace" else current + key
        ctx.commit(t)


def _empty_fields(ctx: Context) -> list[Element]:
    return [f for f in ctx.screen.of_kind("field") if not ctx.state.texts.get(f.id)]


def type_field(ctx: Context) -> TaskRecord | None:
    fields = _empty_fields(ctx)
    if not fields:
        return None
    target = _choose(ctx, fields)
    text = field_value(ctx.rng, target.label)
    t0 = ctx.user.t
    type_into(ctx, target, text)
    return TaskRecord("type", f"Type '{text}' into the {target.label} field.", t0, ctx.user.t, [target])


def select_item(ctx: Context) -> TaskRecord | None:
    lists = ctx.screen.of_kind("list")
    if not lists:
        return None
    box = _choose(ctx, lists)
    item = _choose(ctx, ctx.screen.children(box))
    t0 = ctx.user.t

    def select() -> None:
        ctx.state.selected[box.id] = item.id
        ctx.state.focused = None

    click(ctx, item, select, lambda: None)
    return TaskRecord("select", f"Select '{item.label}' in the list.", t0, ctx.user.t, [item])


def fill_form(ctx: Context) -> TaskRecord | None:
    """A multi-step form: two or three fields of one window, then one of its buttons."""
    windows = [w for w in ctx.screen.of_kind("window") if any(b.window == w.id for b in ctx.screen.of_kind("button"))]
    options = [(w, [f for f in _empty_fields(ctx) if f.window == w.id]) for w in windows]
    options = [(w, fields) for w, fields in options if len(fields) >= 2]
    if not options:
        return None
    window, fields = options[int(ctx.rng.integers(len(options)))]
    start = int(ctx.rng.integers(0, len(fields) - 1))
    chosen = fields[start : start + int(ctx.rng.integers(2, 4))]
    button = _choose(ctx, [b for b in ctx.screen.of_kind("button") if b.window == window.id])
    values = [field_value(ctx.rng, f.label) for f in chosen]
    t0 = ctx.user.t
    all_fields = ctx.screen.of_kind("field")
    for index, (target, text) in enumerate(zip(chosen, values, strict=True)):
        follows = index > 0 and all_fields.index(target) == all_fields.index(chosen[index - 1]) + 1
        type_into(ctx, target, text, by_tab=follows and ctx.rng.random() < 0.5)
    click_button(ctx, button)
    parts = ", ".join(f"{f.label} '{v}'" for f, v in zip(chosen, values, strict=True))
    goal = f"Fill in the form: {parts}, then click {button.label}."
    return TaskRecord("form", goal, t0, ctx.user.t, [*chosen, button])


def idle(ctx: Context) -> None:
    """Time between tasks: reading, sometimes a pointer drift that ends in no click."""
    ctx.user.wait(float(ctx.rng.uniform(0.3, 2.5)))
    if ctx.rng.random() < 0.4:
        s = ctx.screen
        point = (int(ctx.rng.integers(20, s.width - 20)), int(ctx.rng.integers(20, s.height - 20)))
        ctx.user.move_to(point, width=80.0, dwell=False)


TASKS: dict[str, tuple[float, Callable[[Context], TaskRecord | None]]] = {
    "click_button": (0.3, click_button),
    "menu": (0.2, choose_menu),
    "type": (0.2, type_field),
    "select": (0.15, select_item),
    "form": (0.15, fill_form),
}


def run_session(ctx: Context, duration: float) -> list[TaskRecord]:
    """Random tasks with idle gaps until `duration` seconds of activity have passed."""
    names = list(TASKS)
    weights = np.array([TASKS[n][0] for n in names])
    records: list[TaskRecord] = []
    ctx.user.wait(float(ctx.rng.uniform(0.3, 1.5)))
    for _ in range(200):
        if ctx.user.t >= duration:
            break
        record = TASKS[names[int(ctx.rng.choice(len(names), p=weights / weights.sum()))]][1](ctx)
        if record is not None:
            records.append(record)
        if ctx.rng.random() < 0.5:
            idle(ctx)
    return records
