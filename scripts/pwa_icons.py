"""Draw the installable app's icons (static/img/icons/) from the favicon's design (static/img/favicon.svg:
the white 工 on the brand blue). Run again after changing the favicon: .venv/bin/python scripts/pwa_icons.py

- icon-192.png, icon-512.png: purpose "any", the rounded square as in the favicon;
- maskable-192.png, maskable-512.png: purpose "maskable", full-bleed blue with the glyph inside the central
  safe zone (a circle of 40 % radius), so any launcher mask (circle, squircle) keeps it whole;
- apple-touch-icon.png (180 px): opaque, square corners (iOS rounds it itself).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (10, 61, 122, 255)  # #0a3d7a, --brand in static/css/site.css
WHITE = (255, 255, 255, 255)
# The favicon's path on its 64-unit grid: M14 14h36v8H36v20h16v8H12v-8h16V22H14z
GLYPH = [(14, 14), (50, 14), (50, 22), (36, 22), (36, 42), (52, 42), (52, 50), (12, 50), (12, 42), (28, 42),
         (28, 22), (14, 22)]  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "static" / "img" / "icons"
SUPERSAMPLE = 4


def draw(size: int, *, rounded: bool, glyph_scale: float) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(image)
    if rounded:
        canvas.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 14 / 64, fill=BRAND)
    else:
        canvas.rectangle((0, 0, big, big), fill=BRAND)
    unit = big / 64 * glyph_scale
    offset = (big - 64 * unit) / 2
    canvas.polygon([(offset + x * unit, offset + y * unit) for x, y in GLYPH], fill=WHITE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, rounded=True, glyph_scale=1.0).save(OUT / f"icon-{size}.png", optimize=True)
        # The glyph spans 40 of 64 units; 0.8 keeps its corners within the 40 % safe circle.
        draw(size, rounded=False, glyph_scale=0.8).save(OUT / f"maskable-{size}.png", optimize=True)
    draw(180, rounded=False, glyph_scale=0.9).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
