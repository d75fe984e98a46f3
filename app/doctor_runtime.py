"""Doctor checks for what makes the predictions: the model, the execution provider, the screen-text models."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

from app.doctor_base import Check, DoctorContext
from inference.errors import GhostpilotError

CUDA = "CUDAExecutionProvider"


def _cuda_unavailable_reason() -> tuple[bool, str]:
    """(driver present, why onnxruntime cannot run CUDA) from loading the libraries it needs ourselves."""
    import onnxruntime

    driver = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        ctypes.CDLL(driver)
    except OSError:
        return False, f"no NVIDIA driver ({driver} not found)"
    name = "onnxruntime_providers_cuda.dll" if sys.platform == "win32" else "libonnxruntime_providers_cuda.so"
    try:
        ctypes.CDLL(str(Path(onnxruntime.__file__).parent / "capi" / name))
    except OSError as exc:
        return True, f"its CUDA provider cannot load ({str(exc).splitlines()[0][:160]})"
    return True, "onnxruntime fell back to CPU when creating the session"


def check_provider(ctx: DoctorContext) -> Check:
    import onnxruntime

    from app.models import resolve_model
    from inference import load_predictor

    available = onnxruntime.get_available_providers()
    listed = ", ".join(p.removesuffix("ExecutionProvider") for p in available)
    device = ctx.settings.device
    try:
        running = load_predictor(resolve_model(ctx.settings.model), device=device).provider
    except GhostpilotError as exc:
        if device == "cuda":
            return Check("execution provider", "fail", f"device is 'cuda': {exc}", "set device to auto or cpu")
        return Check("execution provider", "warn", f"available: {listed}; the model does not load", "see model")
    detail = f"the model runs on {running} (available: {listed})"
    if CUDA in available and running != CUDA and device == "auto":
        driver, reason = _cuda_unavailable_reason()
        if not driver:
            return Check("execution provider", "ok", f"{detail}; {reason}")
        return Check(
            "execution provider",
            "warn",
            f"{detail}; CUDA is listed but not running: {reason}",
            "install the CUDA and cuDNN libraries this onnxruntime-gpu needs, or set device to cpu",
        )
    return Check("execution provider", "ok", detail)


def check_model(ctx: DoctorContext) -> Check:
    which = ctx.settings.model or "the shipped default"
    try:
        predictor = ctx.cpu_predictor()
    except GhostpilotError as exc:
        fix = "point settings 'model' at a valid .onnx file, or remove it to use the default"
        if ctx.settings.model is None:
            fix = "reinstall Ghostpilot to restore the default model"
        return Check("model", "fail", f"{which}: {exc}", fix)
    size_mb = predictor.path.stat().st_size / 2**20
    return Check("model", "ok", f"{predictor.name} loads ({predictor.path}, {size_mb:.1f} MB)")


def check_screen_text(ctx: DoctorContext) -> Check:
    """The OCR and text-encoder models that goals need, run once on a rendered screen with known labels."""
    try:
        predictor = ctx.cpu_predictor()
    except GhostpilotError:
        return Check("screen text", "warn", "not checked: the model does not load", "see model")
    if not getattr(predictor, "config", {}).get("use_goals", False):
        return Check("screen text", "ok", f"not needed: {predictor.name} does not take goals")
    try:
        read, labels, dim = _read_test_screen()
    except GhostpilotError as exc:
        return Check(
            "screen text",
            "warn",
            f"unavailable, goals follow the pointer only: {exc.message}",
            exc.hint or "run scripts/setup.sh again",
        )
    detail = f"OCR read {read} of {labels} labels on a test screen; text encoder gives {dim}-d embeddings"
    if read * 2 < labels:
        return Check("screen text", "warn", detail, "reinstall rapidocr_onnxruntime==1.4.4 (its models look damaged)")
    return Check("screen text", "ok", detail)


def _read_test_screen() -> tuple[int, int, int]:
    """(labels read back exactly, labels on the screen, embedding size) for one synthetic 800x500 screen."""
    import numpy as np

    from inference.goals.ocr import OcrModel
    from inference.goals.text_encoder import TextEncoder
    from inference.synthetic.screens import Renderer, UIState, make_screen

    screen = make_screen(np.random.default_rng(7), 800, 500)
    labels = {e.label.strip() for e in screen.elements if e.kind == "button" and e.label.strip()}
    found = {line.text.strip() for line in OcrModel().read(Renderer(screen).render(UIState()))}
    embedding = TextEncoder().embed(sorted(labels)[:1] or ["Save"])
    return len(labels & found), len(labels), int(embedding.shape[1])
