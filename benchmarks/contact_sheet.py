"""Contact sheet of the default animator's key mouth and eye poses, for the docs.

    python benchmarks/contact_sheet.py --out docs/contact-sheet.png [--image PORTRAIT]

Each tile is one rendered frame (1080x1920 tiktok framing) cropped around the face:
rest, p/b/m closed, open vowel, rounded, spread, f/v and a blink. The poses use the
viseme table's own parameters, so the sheet shows what a video shows for those phones.
"""

from __future__ import annotations

import os

os.environ.setdefault("GLOG_minloglevel", "2")

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def poses():
    from personacast.stages.perform.visemes import VISEMES

    def mouth(name):
        v = VISEMES[name]
        return {"jaw_open": v.jaw_open, "lip_width": v.lip_width, "lip_close": v.lip_close}

    return [
        ("rest", mouth("rest")),
        ("p b m (closed)", mouth("closed")),
        ("a (open vowel)", mouth("open")),
        ("o (rounded)", mouth("round_open")),
        ("u w (rounded)", mouth("round_close")),
        ("i (spread)", mouth("spread")),
        ("f v", mouth("lip_teeth")),
        ("blink", {"blink": 1.0}),
    ]


def render_tiles(image: Path, size=(1080, 1920)) -> list[tuple[str, np.ndarray]]:
    from personacast.settings import Settings
    from personacast.stages.animate.landmark_warp import LandmarkWarpAnimator, ScenePlan
    from personacast.stages.perform.performance import Performance

    animator = LandmarkWarpAnimator(Settings())
    portrait = animator.prepare(image, size)
    chosen = poses()
    named = {name for _, pose in chosen for name in pose}
    curves = {name: [pose.get(name, 0.0) for _, pose in chosen] for name in named}
    performance = Performance.at_rest(30, len(chosen), **curves)
    frames = [p.full() for p in animator.frames([ScenePlan(portrait, 0, len(chosen))], performance)]
    m = portrait.stage.margin_px
    x0, y0, x1, y1 = (v - m for v in portrait.stage.landmarks.bbox)
    pad_x, pad_y = 0.15 * (x1 - x0), 0.12 * (y1 - y0)
    box = (int(x0 - pad_x), int(y0 - pad_y), int(x1 + pad_x), int(y1 + pad_y))
    return [(label, frame[box[1] : box[3], box[0] : box[2]]) for (label, _), frame in zip(chosen, frames)]


def sheet(tiles: list[tuple[str, np.ndarray]], tile_width: int = 300, columns: int = 4) -> Image.Image:
    from personacast.stages.compose.captions import default_font_path

    h, w = tiles[0][1].shape[:2]
    tile_height = int(h * tile_width / w)
    label_h = 28
    rows = (len(tiles) + columns - 1) // columns
    out = Image.new("RGB", (columns * tile_width, rows * (tile_height + label_h)), "white")
    font = ImageFont.truetype(str(default_font_path()), 18)
    draw = ImageDraw.Draw(out)
    for i, (label, crop) in enumerate(tiles):
        x, y = (i % columns) * tile_width, (i // columns) * (tile_height + label_h)
        out.paste(Image.fromarray(crop).resize((tile_width, tile_height), Image.LANCZOS), (x, y + label_h))
        draw.text((x + 6, y + 4), label, fill="black", font=font)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/contact-sheet.png"))
    parser.add_argument("--image", type=Path, help="portrait (default: the bundled sample)")
    args = parser.parse_args()
    from personacast.samples import sample_image

    tiles = render_tiles(args.image or sample_image("astronaut"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(tiles).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
