"""Shipped data: the default model and its model card (`models/`), found via this package's path."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL = ASSETS_DIR / "models" / "ghostpilot-default.onnx"
