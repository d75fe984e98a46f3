"""Switch the running copilot's model without a restart: `ghostpilot model use|rollback`, a fine-tune's swap, or
new model/device settings (docs/learning.md, docs/settings.md).

Loading a model takes 0.3-1 s, so it never happens on the copilot's loop thread: a loader thread loads the
predictor (and, for a goal model when no screen-text worker runs, starts one), then puts a function in the
copilot's inbox. The loop, which owns the session, runs it between two steps: a session of the new model, with
the current goal, replaces the old one; a shown ghost just goes (the user refused nothing); the logbook's
model_version follows; the screen-text worker is kept, adopted or stopped as the new model reads text or not;
and a notice names the model. Ghosts keep flowing from the old model until then. A model that fails to load
changes nothing and says why in one line.

The registry trigger is a poll of the index file's stamp every 2 s (no file watcher): it switches to the
registry's current model unless the user pinned one (`--model`, or settings `model`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from app.copilot import Copilot
from inference.errors import GhostpilotError

if TYPE_CHECKING:
    from app.screen_text import ScreenTextWorker

REGISTRY_POLL_S = 2.0
Notice = Callable[[str], None]


@dataclass(frozen=True)
class ModelChoice:
    """A model (`spec`: an .onnx path or a registered name; None: the registry's current) on a device."""

    spec: str | None = None
    device: str | None = None  # "auto" | "cpu" | "cuda"; None: not given (on the command line)


@dataclass(frozen=True)
class ModelSource:
    """Who chose the model: what the command line gave wins over the settings file, field by field."""

    command_line: ModelChoice = ModelChoice()
    settings: ModelChoice = ModelChoice()

    @property
    def choice(self) -> ModelChoice:
        spec = self.command_line.spec or self.settings.spec
        return ModelChoice(spec, self.command_line.device or self.settings.device or "auto")


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded off the loop, on its way to it."""

    predictor: Any
    version: str  # name@sha256-prefix, as the log records it
    screen_text: Any  # a worker started for a goal model when none ran at load time, else None
    generation: int  # the request it answers: a newer request makes it stale
    device_note: str = ""  # "auto" found CUDA installed but the model runs on the CPU


def uses_goals(predictor: Any) -> bool:
    return bool(getattr(predictor, "config", {}).get("use_goals", False))


def start_screen_text(predictor: Any, on_notice: Notice) -> ScreenTextWorker | None:
    """OCR and text embeddings for a goal-conditioned model, on their own thread; None for other models (they
    would not read the text, so no CPU is spent on it) or when the text models are not installed."""
    if not uses_goals(predictor):
        return None
    from app.screen_text import ScreenTextWorker
    from inference.goals.ocr import OcrModel
    from inference.goals.text_encoder import TextEncoder

    try:
        return ScreenTextWorker(OcrModel(), TextEncoder(), only_with_goal=True).start()
    except GhostpilotError as exc:
        on_notice(f"goals follow the pointer only: screen text unavailable ({exc.message})")
        return None


class ModelSwitcher:
    """Keeps the running copilot on the model the user chose; `predictor` is the one in use (loop-side)."""

    def __init__(
        self,
        copilot: Copilot,
        predictor: Any,
        screen: tuple[int, int],
        source: ModelSource,
        stoppers: list[Callable[[], None]] | None = None,
    ) -> None:
        self.copilot, self.predictor, self.screen, self.source = copilot, predictor, screen, source
        self.stoppers = stoppers if stoppers is not None else []  # adopted screen-text workers stop at exit
        self.listeners: list[Callable[[Any], None]] = []  # called on the loop thread with each new predictor
        self.poll_s = REGISTRY_POLL_S
        self._lock = threading.Lock()  # requests and registry checks come from several threads
        self._load_lock = threading.Lock()  # one load at a time: results reach the loop in request order
        self._generation = 0
        self._stamp: Any = None  # the registry index's stamp when last looked at
        self._registry_entry: tuple[str, str] | None = None  # (name, sha256) of the registry model last loaded
        if source.choice.spec is None:
            self._stamp, self._registry_entry = _registry_state()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []  # loaders, the watcher, stopping workers: joined at stop
        self._unclaimed: set[Any] = set()  # workers started for a load the loop has not taken yet

    def _notice(self, message: str) -> None:
        self.copilot.parts.on_notice(message)

    # ----- triggers (any thread) -----
    def start(self) -> ModelSwitcher:
        """Watch the registry (every `poll_s` seconds) for `model use`, `rollback` and a fine-tune's swap."""
        self._spawn(self._watch, "ghostpilot-model-watch")
        return self

    def _watch(self) -> None:
        while not self._stopped.wait(self.poll_s):
            try:
                self.check_registry()
            except Exception as exc:  # the watcher must outlive one bad read
                self._notice(f"model registry check failed: {type(exc).__name__}: {exc}")

    def check_registry(self) -> bool:
        """Switch when the registry's current model changed since the last look, unless a model is pinned."""
        from app import models

        with self._lock:
            stamp = models.registry_stamp()
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            if self.source.choice.spec is not None:
                return False  # pinned: the registry's choice applies when the pin is removed
            try:
                entry = models.current()
            except GhostpilotError as exc:
                self._notice(f"model registry unreadable, still using {self.predictor.name}: {exc.message}")
                return False
            if (entry.name, entry.sha256) == self._registry_entry:
                return False  # a model was registered, not made current
        self.switch()
        return True

    def apply_settings(self, settings: Any) -> bool:
        """New app.settings.Settings: switch when the model or device setting changed what should run."""
        asked = ModelChoice(settings.model, settings.device)
        with self._lock:
            if asked == self.source.settings:
                return False
            before, self.source = self.source.choice, replace(self.source, settings=asked)
            if self.source.choice == before:
                self._notice("the model and device given on the command line stay until Ghostpilot starts again")
                return False
        self.switch()
        return True

    def switch(self) -> None:
        """Load the chosen model on a loader thread, then hand it to the loop; a newer request supersedes it."""
        with self._lock:
            self._generation += 1
            generation, choice = self._generation, self.source.choice
        self._spawn(partial(self._load, generation, choice), "ghostpilot-model-load")

    # ----- the loader thread -----
    def _load(self, generation: int, choice: ModelChoice) -> None:
        with self._load_lock:
            if generation != self._generation or self._stopped.is_set():
                return  # superseded before it started
            try:
                loaded = self._prepare(generation, choice)
            except Exception as exc:  # ModelError, DeviceError, or a bug: the running model stays either way
                reason = exc.message if isinstance(exc, GhostpilotError) else f"{type(exc).__name__}: {exc}"
                self._notice(f"model not switched, still using {self.predictor.name}: {reason}")
                return
            if loaded.screen_text is not None:
                self._unclaimed.add(loaded.screen_text)
            self.copilot.inbox.put(("run", partial(self._apply, loaded)))

    def _prepare(self, generation: int, choice: ModelChoice) -> LoadedModel:
        from app import models
        from app.logbook import model_version
        from inference import load_predictor

        if choice.spec is None:
            entry = models.current()
            self._registry_entry = (entry.name, entry.sha256)
            path = models.verified_path(entry)
        else:
            path = models.resolve_model(choice.spec)
        predictor = load_predictor(path, device=choice.device or "auto")
        parts = self.copilot.parts
        wants_text = uses_goals(predictor) and parts.screen_text is None and parts.capture is not None
        worker = start_screen_text(predictor, self._notice) if wants_text else None
        note = models.device_notice(predictor, choice.device or "auto") or ""
        return LoadedModel(predictor, model_version(predictor), worker, generation, note)

    # ----- the loop thread -----
    def _apply(self, loaded: LoadedModel, copilot: Copilot, now: float) -> bool:
        """Swap the loaded model in (runs on the loop, between two steps); True: what is drawn may have changed."""
        self._unclaimed.discard(loaded.screen_text)
        if loaded.generation != self._generation:
            self._retire(loaded.screen_text)  # a newer request is on its way
            return False
        predictor = loaded.predictor
        try:
            session = predictor.new_session(*self.screen, goal=copilot.goal)
        except Exception as exc:
            self._retire(loaded.screen_text)
            self._notice(f"model not switched, still using {self.predictor.name}: {type(exc).__name__}: {exc}")
            return False
        self._swap_screen_text(copilot, loaded)
        copilot.replace_session(session, now)
        if copilot.parts.logbook is not None:
            copilot.parts.logbook.use_model(predictor.name, loaded.version)
        self.predictor = predictor
        for listener in self.listeners:
            listener(predictor)
        note = f"; {loaded.device_note}" if loaded.device_note else ""
        self._notice(f"now using model {predictor.name} (on {predictor.provider}){note}")
        return True

    def _swap_screen_text(self, copilot: Copilot, loaded: LoadedModel) -> None:
        """A goal model keeps the running worker or adopts the one started for it; another model stops it."""
        parts = copilot.parts
        if not uses_goals(loaded.predictor):
            dropped, parts.screen_text = parts.screen_text, None
            self._retire(dropped)
        elif parts.screen_text is None and loaded.screen_text is not None:
            parts.screen_text = loaded.screen_text
            self.stoppers.append(loaded.screen_text.stop)
            try:
                if copilot.goal is not None:
                    loaded.screen_text.set_goal(copilot.goal)
            except GhostpilotError as exc:  # the goal stays with the session; the text only loses its ranking
                self._notice(f"goal not read on screen: {exc.message}")
        else:
            self._retire(loaded.screen_text)  # one already runs (or there is no capture to read)

    def _retire(self, worker: Any) -> None:
        """Stop a screen-text worker off the loop: an OCR in progress finishes first (seconds)."""
        if worker is not None:
            self._spawn(worker.stop, "ghostpilot-screen-text-stop")

    # ----- lifecycle -----
    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; wait for a load in progress and for stopping workers (onnxruntime must not run at exit)."""
        self._stopped.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        for worker in list(self._unclaimed):  # loaded for a loop that stopped before taking it
            worker.stop()
        self._unclaimed.clear()


def _registry_state() -> tuple[Any, tuple[str, str] | None]:
    """The index's stamp and the current entry (name, sha256), read now; (stamp, None) if unreadable."""
    from app import models

    stamp = models.registry_stamp()
    try:
        entry = models.current()
    except GhostpilotError:
        return stamp, None
    return stamp, (entry.name, entry.sha256)
