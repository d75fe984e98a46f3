"""Draws Ghostpilot's application icon (packaging/icons/ghostpilot.{svg,png,ico}) with Pillow.

The same motif as the tray's "watching" icon (ui/tray.py): a blue ghost with two eyes. Drawn by a script so
the icon is reproducible and has no licence question: `.venv/bin/python packaging/make_icon.py`.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent / "icons"
BODY, OUTLINE, EYE, PUPIL = "#3b82f6", "#1e40af", "#ffffff", "#1e293b"
VIEW = 64  # the SVG's coordinate system; the PNG scales it
SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 {VIEW} {VIEW}">
  <path d="M10 58 V28 A22 22 0 0 1 54 28 V58 L46.7 51 L39.3 58 L32 51 L24.7 58 L17.3 51 Z"
        fill="{BODY}" fill-opacity="0.92" stroke="{OUTLINE}" stroke-width="3" stroke-linejoin="round"/>
  <ellipse cx="24" cy="28" rx="5" ry="6.5" fill="{EYE}"/>
  <ellipse cx="40" cy="28" rx="5" ry="6.5" fill="{EYE}"/>
  <circle cx="26" cy="30" r="2.6" fill="{PUPIL}"/>
  <circle cx="42" cy="30" r="2.6" fill="{PUPIL}"/>
</svg>
"""


def ghost_outline(scale: float) -> list[tuple[float, float]]:
    """The SVG path's polygon: a half-disc head, straight sides and a zig-zag hem."""
    import math

    points = [(10.0, 58.0), (10.0, 28.0)]
    points += [(32 - 22 * math.cos(math.pi * i / 32), 28 - 22 * math.sin(math.pi * i / 32)) for i in range(33)]
    points += [(54, 58), (46.7, 51), (39.3, 58), (32, 51), (24.7, 58), (17.3, 51)]
    return [(x * scale, y * scale) for x, y in points]


def draw_png(size: int) -> Image.Image:
    """Drawn 4x larger and scaled down: Pillow's shapes are not antialiased."""
    big = size * 4
    scale = big / VIEW
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon(ghost_outline(scale), fill=BODY, outline=OUTLINE, width=round(3 * scale))
    for cx in (24, 40):
        draw.ellipse([(cx - 5) * scale, 21.5 * scale, (cx + 5) * scale, 34.5 * scale], fill=EYE)
        draw.ellipse([(cx - 0.6) * scale, 27.4 * scale, (cx + 4.6) * scale, 32.6 * scale], fill=PUPIL)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(exist_ok=True)
    (ICONS / "ghostpilot.svg").write_text(SVG)
    png = draw_png(256)
    png.save(ICONS / "ghostpilot.png", optimize=True)
    png.save(ICONS / "ghostpilot.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    print(f"wrote {ICONS}/ghostpilot.svg, .png, .ico")


if __name__ == "__main__":
    main()
