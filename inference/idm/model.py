"""The IDM's three small networks (torch; exported to ONNX so labelling runs without torch).

Each runs once per frame (or once per screen change), so labelling 1080p30 video stays faster than real time
on two CPU cores. Temporal context (the frames before and after a tick) comes from the inputs: the cursor
network sees the change since the previous tick, the change network the previous, current and next frame.
"""

from __future__ import annotations

import torch
from torch import nn

from inference.idm.classes import N_CLASSES
from inference.idm.preprocess import CHANGE, HEAT_H, HEAT_W, N_CHANGE_FEATURES, REFINE


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, dilation, dilation), nn.ReLU())


class CursorNet(nn.Module):
    """Global view + its change -> logits over HEAT_H x HEAT_W cells, then one "no pointer visible" logit."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(2, 8, 2), _conv(8, width, 2), _conv(width, width), _conv(width, width, dilation=2),
            _conv(width, width, dilation=4),
        )  # fmt: skip
        self.heat = nn.Conv2d(width, 1, 1)
        self.absent = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2, GLOBAL_H, GLOBAL_W)
        h = self.body(x)  # (B, C, HEAT_H, HEAT_W)
        heat = self.heat(h).flatten(1)  # (B, HEAT_H * HEAT_W)
        absent = self.absent(h.amax(dim=(2, 3)))  # (B, 1)
        return torch.cat([heat, absent], dim=1)


class RefineNet(nn.Module):
    """A full-resolution crop around the coarse pointer -> logits over its REFINE x REFINE pixels (hotspot)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(1, width), _conv(width, width), _conv(width, width, dilation=2), _conv(width, width, dilation=4),
            _conv(width, width, dilation=8),
        )  # fmt: skip
        self.heat = nn.Conv2d(width, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, REFINE, REFINE)
        return self.heat(self.body(x)).flatten(1)  # (B, REFINE * REFINE)


class ChangeNet(nn.Module):
    """Crops at a screen change (previous, current, next, difference) + numbers -> class logits."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(4, width), nn.MaxPool2d(2), _conv(width, 2 * width), nn.MaxPool2d(2), _conv(2 * width, 2 * width),
            nn.MaxPool2d(2),
        )  # fmt: skip
        flat = 2 * width * (CHANGE // 8) ** 2
        self.head = nn.Sequential(nn.Linear(flat + N_CHANGE_FEATURES, 192), nn.ReLU(), nn.Linear(192, N_CLASSES))

    def forward(self, image: torch.Tensor, numbers: torch.Tensor) -> torch.Tensor:
        h = self.body(image).flatten(1)  # (B, 2C * 4 * 4)
        return self.head(torch.cat([h, numbers], dim=1))  # (B, N_CLASSES)


HEAT_CELLS = HEAT_H * HEAT_W
REFINE_CELLS = REFINE * REFINE
