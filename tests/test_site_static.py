"""A dashboard in a site build (CPTEACH_STATIC_DASHBOARDS=1, set by book/build.sh) shows its current frame
as a plain PNG with a caption naming the slider values; otherwise it displays as the live widget."""
import pytest
from IPython.display import Image, Markdown

from cpteach.widgets import _dashboard, cp_dashboard


@pytest.fixture
def shown(monkeypatch):
    calls = []
    monkeypatch.setattr(_dashboard, "display", lambda *objs, **kwargs: calls.append((objs, kwargs)))
    return calls


def test_static_mode_shows_the_frame_as_png_with_a_caption(monkeypatch, shown):
    monkeypatch.setenv("CPTEACH_STATIC_DASHBOARDS", "1")
    board = cp_dashboard(L=7)
    board.sliders["theta"].value = 0.5
    board._ipython_display_()
    (image,), _ = shown[0]
    (caption,), _ = shown[1]
    assert isinstance(image, Image) and image.data.startswith(b"\x89PNG")
    assert image.width == board.css_size[0] >= 600
    assert isinstance(caption, Markdown)
    assert "L = 7" in caption.data and "θ = 0.50" in caption.data and "Binder" in caption.data
    assert f"τ = {board.sliders['tau'].value:.3g}" in caption.data


def test_live_mode_shows_the_widget(monkeypatch, shown):
    monkeypatch.delenv("CPTEACH_STATIC_DASHBOARDS", raising=False)
    board = cp_dashboard(L=7)
    board._ipython_display_()
    (bundle,), kwargs = shown[0]
    assert kwargs == {"raw": True} and len(shown) == 1
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == board.model_id
