import numpy as np
import pytest
from PIL import Image

from personacast.errors import ImageError
from personacast.models import Logo
from personacast.stages.compose.disclosure import disclosure_overlay
from personacast.stages.compose.formats import PRESETS, get_preset
from personacast.stages.compose.logo import logo_overlay


@pytest.fixture
def logo_png(tmp_path):
    rgba = np.zeros((200, 400, 4), np.uint8)
    rgba[40:160, 40:360] = (230, 40, 40, 255)  # an opaque red bar on a transparent canvas
    path = tmp_path / "logo.png"
    Image.fromarray(rgba).save(path)
    return path


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("position", ["top_left", "top_right", "bottom_left", "bottom_right"])
def test_logo_sits_in_its_safe_corner_at_its_size_and_opacity(logo_png, name, position):
    preset = get_preset(name)
    label = disclosure_overlay("AI-generated", preset)
    overlay = logo_overlay(Logo(path=logo_png, position=position, width_ratio=0.15, opacity=0.5), preset, avoid=label)
    x0, y0, x1, y1 = overlay.rect
    sx0, sy0, sx1, sy1 = preset.safe_rect
    assert sx0 <= x0 and x1 <= sx1 and sy0 <= y0 and y1 <= sy1
    assert x1 - x0 == pytest.approx(0.15 * preset.width, abs=2) or y1 - y0 == (sy1 - sy0) // 4
    assert (x0 < preset.width / 2) == position.endswith("left") and (y0 < preset.height / 2) == position.startswith("top")
    assert overlay.rgba[..., 3].max() == pytest.approx(127, abs=2)
    lx0, ly0, lx1, ly1 = label.rect
    assert x1 <= lx0 or lx1 <= x0 or y1 <= ly0 or ly1 <= y0  # never under the AI label


def test_unreadable_logo_is_a_clear_error(tmp_path):
    bad = tmp_path / "logo.png"
    bad.write_bytes(b"nope")
    with pytest.raises(ImageError, match="cannot read the logo"):
        logo_overlay(Logo(path=bad), get_preset("tiktok"))
    with pytest.raises(ImageError, match="logo not found"):
        logo_overlay(Logo(path=tmp_path / "none.png"), get_preset("tiktok"))
