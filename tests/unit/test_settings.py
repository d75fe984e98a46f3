"""Settings: real files in the isolated XDG config dir; round trips, atomic saves, migrations, validation, watcher."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.settings import (
    DEFAULT_DENY_LIST,
    MIGRATIONS,
    SETTINGS_VERSION,
    KeyBindings,
    Settings,
    SettingsWatcher,
    default_settings_path,
    load_settings,
    migrate,
    save_settings,
    settings_from_dict,
    settings_to_dict,
    update_settings,
)
from inference.errors import GhostpilotError

CUSTOM = Settings(
    keys=KeyBindings(accept="f12", goal="super+space"),
    min_confidence=0.8,
    capture_fps=24,
    model="/models/mine.onnx",
    device="cpu",
    deny_list=("Secret App",),
    retention_days=7,
    max_database_mb=512,
    data_dir="/data/ghostpilot",
)


def test_the_file_lives_under_xdg_config_home() -> None:
    assert default_settings_path() == Path(os.environ["XDG_CONFIG_HOME"]) / "ghostpilot" / "settings.json"


def test_no_file_means_defaults_and_loading_writes_nothing() -> None:
    loaded = load_settings()
    assert loaded == Settings()
    assert loaded.keys.accept == "tab" and loaded.capture_fps == 10 and "KeePassXC" in loaded.deny_list
    assert not default_settings_path().parent.exists()


def test_round_trip_with_private_permissions() -> None:
    path = save_settings(CUSTOM)
    assert load_settings() == CUSTOM
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == SETTINGS_VERSION and on_disk["keys"]["accept"] == "f12"
    assert on_disk["deny_list"] == ["Secret App"]


@settings(max_examples=60, deadline=None)
@given(
    min_confidence=st.floats(0, 1),
    fps=st.floats(0.1, 30),
    deny=st.lists(st.text(min_size=1).filter(str.strip), max_size=4),
    days=st.integers(1, 3650),
    device=st.sampled_from(["auto", "cpu", "cuda"]),
    model=st.none() | st.text(min_size=1).filter(str.strip),
)
def test_any_valid_settings_survive_json(
    min_confidence: float, fps: float, deny: list[str], days: int, device: str, model: str | None
) -> None:
    original = Settings(
        min_confidence=min_confidence, capture_fps=fps, deny_list=tuple(deny), retention_days=days,
        device=device, model=model,
    )  # fmt: skip
    assert settings_from_dict(json.loads(json.dumps(settings_to_dict(original)))) == original


def test_saving_replaces_the_file_atomically_and_leaves_no_temp_files() -> None:
    path = save_settings(Settings())
    first_inode = path.stat().st_ino
    save_settings(CUSTOM)
    assert path.stat().st_ino != first_inode  # a new file renamed over the old one, not rewritten in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_a_reader_never_sees_a_half_written_file() -> None:
    path = save_settings(Settings())
    bad: list[str] = []
    done = threading.Event()

    def read_continuously() -> None:
        while not done.is_set():
            text = path.read_text()
            try:
                json.loads(text)
            except json.JSONDecodeError:
                bad.append(text)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for i in range(150):
            save_settings(Settings(deny_list=tuple(f"app {j}" for j in range(i % 40)), retention_days=1 + i))
    finally:
        done.set()
        reader.join()
    assert bad == []


def test_invalid_settings_are_not_saved() -> None:
    path = save_settings(CUSTOM)
    before = path.read_bytes()
    with pytest.raises(GhostpilotError, match="min_confidence"):
        save_settings(Settings(min_confidence=1.5))
    assert path.read_bytes() == before


V1_FILE = {"version": 1, "accept_key": "f12", "dismiss_key": "ctrl+q", "min_confidence": 0.7, "device": "cpu"}


def test_migration_v1_to_v2_moves_the_flat_keys_into_keys() -> None:
    migrated = migrate(dict(V1_FILE))
    assert migrated == {"version": 2, "keys": {"accept": "f12", "dismiss": "ctrl+q"}, "min_confidence": 0.7,
                        "device": "cpu"}  # fmt: skip
    assert migrate({"version": 1}) == {"version": 2, "keys": {}}


def test_the_migration_registry_covers_every_older_version() -> None:
    assert sorted(MIGRATIONS) == list(range(1, SETTINGS_VERSION))


def test_a_v1_file_loads_migrated_and_is_rewritten_with_a_backup() -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    original = json.dumps(V1_FILE)
    path.write_text(original)
    loaded = load_settings()
    assert loaded.keys == KeyBindings(accept="f12", dismiss="ctrl+q")
    assert loaded.min_confidence == 0.7 and loaded.device == "cpu" and loaded.deny_list == DEFAULT_DENY_LIST
    assert json.loads(path.read_text())["version"] == SETTINGS_VERSION
    assert path.with_name("settings.json.v1.bak").read_text() == original
    assert load_settings() == loaded


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"min_confidnce": 0.4}, "min_confidnce"),
        ({"min_confidence": "high"}, "min_confidence"),
        ({"min_confidence": 1.2}, "min_confidence"),
        ({"capture_fps": 60}, "capture_fps"),
        ({"capture_fps": 0}, "capture_fps"),
        ({"capture_fps": True}, "capture_fps"),
        ({"retention_days": 2.5}, "retention_days"),
        ({"device": "gpu"}, "device"),
        ({"deny_list": "1Password"}, "deny_list"),
        ({"model": ""}, "model"),
        ({"keys": {"acept": "tab"}}, "keys.acept"),
        ({"keys": {"accept": "ctrl+nosuchkey"}}, "keys.accept"),
        ({"keys": {"accept": "esc"}}, "keys.dismiss"),  # the same key as dismiss's "escape"
        ({"keys": {"accept": "hyper+tab"}}, "keys.accept"),
        ({"keys": {"accept": "ctrl+"}}, "keys.accept"),
        ({"keys": {"dismiss": "tab"}}, "keys.dismiss"),
        ({"keys": ["tab"]}, "keys"),
        ({"version": "2"}, "version"),
    ],
)
def test_a_broken_file_raises_one_line_naming_file_and_field_and_stays_untouched(content: dict, field: str) -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(content))
    before = path.read_bytes()
    with pytest.raises(GhostpilotError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(path) in message and f"'{field}'" in message and "\n" not in message
    with pytest.raises(GhostpilotError):
        update_settings(min_confidence=0.9)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_chords_are_stored_in_canonical_form() -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"keys": {"accept": "Tab", "next_alternative": "Alt+]", "pause": "alt+ctrl+G"}}))
    keys = load_settings().keys
    assert (keys.accept, keys.next_alternative, keys.pause) == ("tab", "alt+bracketright", "ctrl+alt+g")


def test_not_json_and_newer_versions_are_refused_without_touching_the_file() -> None:
    path = default_settings_path()
    path.parent.mkdir(parents=True)
    for content, expected in (('{"min_confidence": 0.4,}', "line 1"), ('{"version": 99}', "newer")):
        path.write_text(content)
        with pytest.raises(GhostpilotError, match=expected):
            load_settings()
        assert path.read_text() == content


def test_update_settings_changes_some_fields_and_keeps_the_rest() -> None:
    save_settings(CUSTOM)
    updated = update_settings(min_confidence=0.3, keys={"dismiss": "ctrl+escape"}, deny_list=("A", "B"))
    assert updated == load_settings()
    assert updated.min_confidence == 0.3 and updated.deny_list == ("A", "B")
    assert updated.keys == KeyBindings(accept="f12", goal="super+space", dismiss="ctrl+escape")
    assert updated.retention_days == CUSTOM.retention_days


def test_update_settings_refuses_bad_values_and_unknown_fields() -> None:
    path = save_settings(CUSTOM)
    before = path.read_bytes()
    with pytest.raises(GhostpilotError, match="'capture_fps'"):
        update_settings(capture_fps=100)
    with pytest.raises(GhostpilotError, match="'colour'"):
        update_settings(colour="red")
    assert path.read_bytes() == before


def test_settings_at_an_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "gp.json"
    update_settings(path, retention_days=3)
    assert load_settings(path).retention_days == 3
    assert not default_settings_path().exists()


def _rewrite(path: Path, **fields: object) -> None:
    """Edit the file as a user's editor would: in place, not through save_settings."""
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def test_watcher_reloads_edits_and_keeps_the_last_good_settings_on_a_broken_edit() -> None:
    path = save_settings(Settings())
    seen: list[Settings] = []
    errors: list[GhostpilotError] = []
    watcher = SettingsWatcher(on_change=seen.append, on_error=errors.append)
    assert watcher.reload_if_changed() is None
    _rewrite(path, min_confidence=0.9, retention_days=4)
    reloaded = watcher.reload_if_changed()
    assert reloaded is not None and reloaded.min_confidence == 0.9 and watcher.current == reloaded
    assert seen == [reloaded]
    assert watcher.reload_if_changed() is None
    path.write_text('{"min_confidence": 7}')
    assert watcher.reload_if_changed() is None
    assert watcher.current == reloaded and "min_confidence" in str(watcher.last_error) and len(errors) == 1
    path.unlink()
    assert watcher.reload_if_changed() == Settings()  # deleting the file means defaults


def test_watcher_thread_applies_a_change_without_a_restart() -> None:
    save_settings(Settings())
    changed = threading.Event()
    seen: list[Settings] = []
    watcher = SettingsWatcher(on_change=lambda s: (seen.append(s), changed.set()), interval_s=0.05)
    watcher.start()
    try:
        update_settings(capture_fps=5)
        assert changed.wait(timeout=30)
    finally:
        watcher.stop()
    assert seen[-1].capture_fps == 5 and watcher.current.capture_fps == 5
