"""The IDM end to end at toy scale: samples -> training -> ONNX -> `ghostpilot label` on an mp4 and on a frame
folder -> an episode that `ghostpilot train` accepts, its losses weighed by the labels' confidence."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from app.cli import main as cli_main  # noqa: E402
from inference.dataset import load_episode_data  # noqa: E402
from inference.episodes import EpisodeMeta, read_episode, write_episode  # noqa: E402
from inference.idm.data import episode_samples  # noqa: E402
from inference.idm.synth_frames import iter_frames, random_look  # noqa: E402
from inference.idm.synth_video import write_video  # noqa: E402
from inference.idm.train import IdmTrainConfig, export_idm, samples_to_arrays, train_idm  # noqa: E402
from inference.synthetic.generate import encode_png, simulate_episode  # noqa: E402
from inference.train import TrainConfig, train  # noqa: E402
from inference.windows import window_targets  # noqa: E402
from tests.conftest import TINY_MODEL  # noqa: E402

pytestmark = pytest.mark.train


@pytest.fixture(scope="module")
def idm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples = episode_samples(1, 1, (640, 360))
    samples.extend(episode_samples(2, 2, (640, 360)))
    cfg = IdmTrainConfig(cursor_steps=6, refine_steps=6, change_steps=6, batch_size=4)
    nets, record = train_idm(samples_to_arrays(samples), cfg)
    out = tmp_path_factory.mktemp("idm")
    manifest = export_idm(nets, out, record, cfg)
    assert json.loads(manifest.read_text())["record"]["change"]["final_loss"] > 0
    return out


def _frames(count: int) -> list[np.ndarray]:
    sim = simulate_episode(4, (640, 360))
    return [frame for _, frame in iter_frames(sim, random_look(np.random.default_rng(0), damage=False), count)]


def _check_labelled(folder: Path) -> None:
    episode = read_episode(folder)
    assert episode.meta.source == "idm" and (episode.meta.screen_width, episode.meta.screen_height) == (640, 360)
    assert all(e["source"] == "idm" and 0 <= e["confidence"] <= 1 for e in episode.events)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "events.jsonl").stat().st_mode) == 0o600


def test_label_an_mp4_and_a_frame_folder(idm_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = _frames(45)
    assert write_video(frames, tmp_path / "rec.mp4") == 45
    assert cli_main(["label", str(tmp_path / "rec.mp4"), str(tmp_path / "out-mp4"), "--idm", str(idm_dir)]) == 0
    _check_labelled(tmp_path / "out-mp4")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(frames[:20]):
        (folder / f"{i * 50:07d}.png").write_bytes(encode_png(frame))  # 20 fps: resampled to 30 Hz ticks
    assert cli_main(["label", str(folder), str(tmp_path / "out-png"), "--idm", str(idm_dir)]) == 0
    _check_labelled(tmp_path / "out-png")
    assert "IDM-labelled events" in capsys.readouterr().out


def test_bad_recordings_give_one_line_errors(idm_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.mp4").write_bytes(b"\x00not a video" * 10)
    for name in ("missing.mp4", "notes.txt", "broken.mp4"):
        assert cli_main(["label", str(tmp_path / name), str(tmp_path / f"o-{name}"), "--idm", str(idm_dir)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("ghostpilot: error:") and "\n" not in err and "Traceback" not in err
    assert cli_main(["label", str(tmp_path / "x.mp4"), str(tmp_path), "--idm", str(tmp_path / "no-idm")]) == 2
    assert "idm.json" in capsys.readouterr().err


def test_idm_labelled_episode_trains_weighted_by_confidence(tmp_path: Path) -> None:
    events = [{"t": 0.0, "type": "mouse.move", "x": 100, "y": 100, "source": "idm", "confidence": 0.9}]
    events += [
        {"t": 0.2 + i / 30, "type": "mouse.move", "x": 100 + 8 * i, "y": 100, "source": "idm", "confidence": 0.8}
        for i in range(1, 25)
    ]
    events += [
        {"t": 1.1, "type": "mouse.down", "x": 292, "y": 100, "button": "left", "source": "idm", "confidence": 0.25},
        {"t": 1.2, "type": "mouse.up", "x": 292, "y": 100, "button": "left", "source": "idm", "confidence": 0.5},
        {"t": 1.5, "type": "key.down", "key": "a", "source": "idm", "confidence": 0.4},
        {"t": 1.6, "type": "key.up", "key": "a", "source": "idm", "confidence": 0.2},
    ]
    folder = write_episode(tmp_path / "idm-ep", EpisodeMeta(640, 360, source="idm"), events)
    data = load_episode_data(folder)
    seg = data.segments[0]
    assert seg.confidence is not None and seg.confidence.min() == pytest.approx(0.2)
    press_tick = int(1.1 * 30)
    t = window_targets(data, seg, press_tick + 5, 16, 30, 60)
    assert t["action_mask"][press_tick - 1 - (press_tick + 5 - 15)] == pytest.approx(0.25)  # target: the press tick
    key_weights = {round(float(v), 3) for v in t["key_mask"]}
    assert 0.4 in key_weights and key_weights <= {0.4, 1.0}  # ticks whose next key is the IDM's "a" weigh 0.4
    cfg = TrainConfig(steps=2, batch_size=4, eval_every=2, out_dir=str(tmp_path / "run"), model=TINY_MODEL)
    assert Path(train([str(folder)], [], cfg, log=lambda _: None)).exists()
