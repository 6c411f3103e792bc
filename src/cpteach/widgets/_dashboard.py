"""The machinery every dashboard shares: a live figure behind sliders, drawn by blitting.

A dashboard is three named module-level functions (docs/theory.md gives the equations):

1. *compute* ``xxx_frame(..., memo, **slider values)``: plain inputs and the dashboard's
   bounded :class:`Memo` (its only state) in, a frozen dataclass out, or the library's
   ValueError (e.g. for tau*sigma*||K||^2 >= 1),
2. *render* ``xxx_render(artists, frame)``: writes such a result into existing matplotlib
   artists (set_data / set_ydata / set_array; no figure is rebuilt), returns a status line,
3. *build* ``xxx_dashboard(...)``: creates the figure once, wires the sliders and returns a
   :class:`Dashboard`, which shows ``render(compute(memo, **values))`` after every change.

Rendering (why it is fast enough to follow a dragged slider). Everything a slider only
moves is an *animated* artist (curves, heat maps, titles with numbers). The rest (axes,
ticks, labels, legends, colour bars) is drawn once by Agg into a cached background; a
slider change restores that background, draws the animated artists on top and sends the
canvas as a JPEG (or PNG) through an ``ipywidgets.Image``. Where an axes' limits, colour
scale, static title or static image changed, only the stale parts are repainted (an axis whose
limits changed, what is drawn in data coordinates, with everything that reaches into their old
or new extent), so that every frame equals a full redraw pixel for pixel; the dashboards make
this rare by snapping limits to decades and 1-2-5 steps
(:func:`cpteach.plotting.nice_ceil`, :func:`cpteach.plotting.decade_limits`). The figure is
rendered at ``pixel_ratio`` times its CSS size (sharp on high-density screens and
projectors) and shown at CSS size.

Dragging: the sliders send values while they move (``continuous_update``); the widget front
end keeps at most one change per slider in flight and sends the newest value once the kernel
has answered the last. A change from the browser is drawn after that answer (queued on the
kernel's event loop, :meth:`Dashboard._defer_update`), so the next value travels while a frame is
drawn; changes that arrive meanwhile are drawn together, and the last frame shows the final
values. A change made by Python code (a test, a notebook cell) is drawn at once.
"""
from __future__ import annotations

import asyncio
import html
import io
import json
import math
import os
import textwrap
import time
from collections import OrderedDict
from functools import partial

import ipywidgets as widgets
import numpy as np
import PIL.Image
from IPython.display import Image, Markdown, display
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import FontProperties
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from ._background import CSS_DPI, Background, smallest_text_px
from ._controls import unicode_text
from ._state import IdleWork, Memo, trace_run

__all__ = ["Dashboard", "Memo", "IdleWork", "trace_run", "envelope", "axis_length"]

PIXEL_RATIO = 2.0     # rendered pixels per CSS pixel


def axis_length(L, L_max):
    """The right end of an iteration axis that shows l up to L: the smallest of 1, 2, 3, 5 times a power
    of ten that is >= L, at most ``L_max``.

    It follows L both ways (the data fill at least half of the axis) and changes at four values
    per decade only, so that a dragged L seldom repaints the axes (a drag from 115 to 614 crosses
    three steps, where 1, 1.5, 2, 3, 4, 5, 6, 8 crossed six). It is never more than the length of
    a :meth:`Memo.run` (1, 2, 5 times a power of ten).

    >>> [axis_length(L, 2000) for L in (1, 7, 30, 285, 1500, 1999)]
    [1, 10, 30, 300, 2000, 2000]
    """
    decade = 10 ** max(0, len(str(int(L))) - 1)
    end = next(step * decade for step in (1, 2, 3, 5, 10) if step * decade >= L)
    return min(int(L_max), int(end))


def fixed_width_ticks(axis, largest):
    """Integer tick labels of ``axis`` padded with figure spaces (one digit wide) to the digits of ``largest``.

    The layout is frozen with the first frame's tick labels; a label that later gets more digits
    (L = 50 -> 200) would push the axis label past the figure's edge. Padded, it keeps its width.
    """
    digits = len(str(int(largest)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}".rjust(digits, "\u2007")))


def envelope(x, y, columns):
    """(x, y) of a line that draws what ``columns`` pixel columns can show of the curve (x, y).

    A curve of more than 2 * ``columns`` points is cut into ``columns`` runs of consecutive
    points; each run becomes two points at its first x, its smallest and its largest y (NaN
    ignored), so the line covers the same pixels as the whole curve (a band where it
    oscillates) at a fraction of the drawing cost. Shorter curves come back unchanged.
    """
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    if len(y) <= 2 * columns:
        return x, y
    starts = np.linspace(0, len(y), columns, endpoint=False).astype(int)
    low, high = np.fmin.reduceat(y, starts), np.fmax.reduceat(y, starts)
    return np.repeat(x[starts], 2), np.column_stack([low, high]).ravel()


def _encode(canvas, image_format):
    """The canvas as JPEG (quality 95, no chroma subsampling) or PNG bytes.

    JPEG is the default: at twice the CSS resolution its artifacts are below what the
    screen shows, and it encodes about 5x faster than PNG (8 vs 46 ms for 1766 x 576 pixels
    here), which is most of a frame.
    """
    width, height = canvas.get_width_height(physical=True)
    buffer = io.BytesIO()
    if image_format == "jpeg":
        image = PIL.Image.frombuffer("RGBX", (width, height), canvas.buffer_rgba(), "raw", "RGBX", 0, 1)
        image.save(buffer, format="jpeg", quality=95, subsampling=0)
    else:
        image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _from_front_end(change):
    """Whether a trait change came from the browser (ipywidgets locks the property while it applies a
    front end's state and notifies the observers), not from Python code."""
    return change["name"] in getattr(change["owner"], "_property_lock", {})


class Dashboard(widgets.VBox):
    """Sliders, a status line and a live matplotlib figure (an ipywidgets ``VBox``).

    Data flow of one frame: ``render(compute(memo, **slider values))``, with the dashboard's
    own bounded :class:`Memo` (the only state a dashboard keeps between frames).

    Parameters
    ----------
    sliders : dict name -> ipywidgets value widget
    figure : matplotlib Figure (constrained layout is computed once, then frozen)
    compute : callable(memo, **slider values) -> the frame's data (a frozen dataclass); raises
        ValueError for an invalid combination (shown in red, over the last valid frame, greyed)
    render : callable(data) -> status HTML; writes the data into the figure's artists
        (set_data / set_ydata / set_array; no figure is rebuilt)
    animated : artists that change with the sliders (drawn on the cached background)
    pixel_ratio : float, rendered pixels per CSS pixel (2: sharp on high-density screens)
    image_format : "jpeg" (default, fast) or "png"
    memo_size : int, how many values the memo keeps
    frame_cache : int, how many encoded frames are kept for slider values shown (or prerendered) before:
        going back to such values sends the kept frame instead of drawing it again (the artists are
        still updated, so the figure always holds the current values)

    Attributes
    ----------
    sliders, figure, memo, status (ipywidgets.HTML), image (ipywidgets.Image), controls (the
    box of sliders), updates (number of frames drawn), last_ms (time of the last update),
    last_active (``time.monotonic()`` of the last slider change), idle (:class:`IdleWork`, the
    work done while no slider moves), full_draws, partial_draws (how often the background was
    redrawn, wholly or some axes), cached_frames (how many frames came from the frame cache) and
    last_frame_cached (whether the frame on screen did).

    The status line carries a hidden ``<span class="cpteach-frame">`` with the update
    counter, the slider values of the frame, the figure's CSS width and its smallest text in
    CSS px at that width (JSON) for the browser tests; the CSS
    classes ``cpteach-dashboard``, ``cpteach-status`` and ``cpteach-figure`` mark the parts.
    """

    def __init__(self, sliders, figure, compute, render, *, animated=(), pixel_ratio=PIXEL_RATIO,
                 image_format="jpeg", memo_size=32, frame_cache=16):
        if image_format not in ("jpeg", "png"):
            raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
        self.sliders = dict(sliders)
        self.figure = figure
        self.memo = Memo(memo_size)
        self._compute_data, self._render = compute, render
        self._animated = list(animated)
        for image in [a for a in self._animated if isinstance(a, AxesImage)]:   # its frame on top of it, as
            self._animated += [spine for spine in image.axes.spines.values()       # in a full draw of the axes
                               if spine.get_visible() and spine not in self._animated]
        for artist in self._animated:
            artist.set_animated(True)
        self._animated.sort(key=lambda artist: artist.get_zorder())    # drawn in a full draw's order (stable sort)
        self.updates = 0
        self._shown_values = {}
        self._frames, self._frame_cache = OrderedDict(), int(frame_cache)   # values -> (frame, its min_text_px)
        self.cached_frames, self.last_frame_cached, self._text_px = 0, False, math.inf
        self.last_ms = 0.0
        self.last_active = -math.inf               # no slider has moved yet (building one is not activity)
        self._update_queued = False
        self.idle = IdleWork(lambda: self.last_active)
        self.neighbours = IdleWork(lambda: self.last_active)   # the frames one key press away, when idle
        self.background = Background(figure)
        # an invalid choice: the last valid figure under a white veil, with the reason in red (drawn last)
        self._veil = figure.add_artist(Rectangle((0, 0), 1, 1, transform=figure.transFigure, facecolor="white",
                                                 alpha=0.7, edgecolor="none", animated=True, visible=False))
        self._notice = figure.text(0.5, 0.5, "", ha="center", va="center", color="#c00000", animated=True,
                                   fontsize=rcParams["font.size"] * 1.25, fontweight="bold", visible=False,
                                   bbox={"facecolor": "white", "edgecolor": "#c00000", "boxstyle": "round,pad=0.6"})
        self.status = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))
        self.status.add_class("cpteach-status")
        self._format = image_format
        self.image = widgets.Image(format=image_format)
        self.image.add_class("cpteach-figure")
        self.controls = widgets.GridBox(list(self.sliders.values()), layout=widgets.Layout(
            grid_template_columns="repeat(auto-fill, minmax(17em, 1fr))", grid_gap="0 1em", width="100%"))
        super().__init__([self.controls, self.status, self.image])
        self.add_class("cpteach-dashboard")
        start = time.perf_counter()
        message, error = self._compute()          # lay the figure out with the first frame's tick labels,
        self.set_pixel_ratio(pixel_ratio)         # in the same draw as the first background
        self._show(message, error, start)
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    @property
    def min_text_px(self):
        """The size of the figure's smallest text in CSS px when it is shown at :attr:`css_size`."""
        return smallest_text_px(self.figure.findobj(Text))

    def _frame_text_px(self):
        """:attr:`min_text_px` of the frame on screen: the background's texts, measured when it was
        painted, and the animated ones (walking the whole figure per frame cost up to 7 ms)."""
        return min(self.background.text_px, smallest_text_px(a for a in self._animated if isinstance(a, Text)))

    @property
    def css_size(self):
        """(width, height) of the shown figure in CSS pixels."""
        width, height = self.figure.get_size_inches()
        return round(width * CSS_DPI), round(height * CSS_DPI)

    def set_pixel_ratio(self, pixel_ratio):
        """Render at ``pixel_ratio`` pixels per CSS pixel from now on (the layout is computed anew)."""
        self._frames.clear()                     # frames of the old layout
        self.background.pad = 1.5 * float(pixel_ratio)   # around each extent: antialiased edges, thin lines
        self.figure.set_dpi(CSS_DPI * float(pixel_ratio))
        FigureCanvasAgg(self.figure)
        self.figure.set_layout_engine("constrained")
        self.background.draw()                    # lays the figure out and draws the background
        self.figure.set_layout_engine("none")    # keep this layout: redraws stay cheap
        width, _ = self.css_size
        self.image.layout = widgets.Layout(width=f"{width}px", max_width="100%", height="auto")
        if self.updates:
            self.update()

    def projector_layout(self, size=(1240, 520), min_text_px=20.0, height="calc(100vh - 125px)", pixel_ratio=1.5):
        """Lay the dashboard out for a projected 1280 x 720 screen: the sliders in one row (the first, L, with a
        track twice as long as the others: it reaches a chosen L by dragging), the status line
        under them, and the figure laid out for a shown size of ``size`` = (width, height) CSS pixels, so
        that its smallest text is ``min_text_px`` CSS pixels there (sub- and superscripts are 0.7 of that:
        14 px at 20). The dashboard is ``height`` tall; the figure takes what the sliders and the status
        leave of it (keeping its aspect), so a longer status line shrinks it a little instead of pushing
        it off the screen.

        Text smaller than the tick labels (legends at "small") is raised to their size first; the
        figure is then laid out ``min_text_px`` / (that size in CSS px) times smaller than ``size``
        and rendered at the same pixels, so that, stretched to ``size``, all its text is large enough.
        ``pixel_ratio`` pixels per CSS pixel: 1.5 is what a full-HD projector shows of a 1280 x 720 page
        (a 2 ratio costs 1.8 times the pixels to draw and encode per frame).
        """
        base = max(self.min_text_px * 72 / CSS_DPI, FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points())
        for text in self.figure.findobj(Text):
            if text.get_fontsize() < base:
                text.set_fontsize(base)
        zoom = min_text_px / (base * CSS_DPI / 72)
        width, height_px = size
        self.figure.set_size_inches(width / zoom / CSS_DPI, height_px / zoom / CSS_DPI)
        self.set_pixel_ratio(pixel_ratio * zoom)
        for slider in self.sliders.values():
            slider.layout.grid_column = "auto"          # one row; the first slider (L) twice as long as the others
        self.controls.layout.grid_template_columns = " ".join(["2fr"] + ["1fr"] * (len(self.sliders) - 1))
        self.image.layout = widgets.Layout(flex="1 1 0%", min_height="0", width=f"{width}px", max_width="100%",
                                           object_fit="contain", object_position="left top")
        self.layout.height = height

    def _ipython_display_(self):
        """The widget; in a site build (``CPTEACH_STATIC_DASHBOARDS=1``, set by book/build.sh) its
        current frame as a plain PNG with a caption naming the slider values (no widget on the page)."""
        if os.environ.get("CPTEACH_STATIC_DASHBOARDS") != "1":
            display(self._repr_mimebundle_(), raw=True)
            return
        values = self._describe(self.values())
        display(Image(_encode(self.figure.canvas, "png"), width=self.css_size[0]))
        display(Markdown(f"*The dashboard's opening frame, at {values}. To move its sliders, run this notebook "
                         "in JupyterLab: the launch button (rocket) at the top of this page opens it on Binder, "
                         "or install cpteach as the front page says.*"))

    def values(self):
        """The current slider values as a dict name -> value."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def _describe(self, values):
        """Slider ``values`` as the sliders show them: 'L = 50, τ = 0.495, ...'."""
        return ", ".join(f"{slider.description or name} = {format(values[name], getattr(slider, 'readout_format', ''))}"
                         for name, slider in self.sliders.items())

    def _on_change(self, change):
        self.last_active = time.monotonic()
        if not (_from_front_end(change) and self._defer_update()):
            self.update()

    def _defer_update(self):
        """Queue one :meth:`update` on the kernel's event loop, after the message at hand (True), or return
        False where no loop runs. The kernel reports idle as soon as it has read the slider's value, so the
        front end sends the next value of a drag while this frame is drawn, instead of after it; changes
        that arrive before the update runs are drawn by it together."""
        if self._update_queued:
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._update_queued = True
        loop.call_soon(self._queued_update)
        return True

    def _queued_update(self):
        self._update_queued = False
        self.update()

    def update(self, render=True):
        """Recompute for the current slider values, update the artists, send the new frame."""
        start = time.perf_counter()
        message, error = self._compute()
        self._show(message, error, start, render)

    def redraw_all(self):
        """Draw the whole figure anew (the background included) and send it: what every frame must equal."""
        self.background.invalidate()
        self._frames.clear()
        self.update()

    def prerender(self, **values):
        """Draw the frame of the slider ``values`` (every slider by name) into the frame cache without
        showing it (idle work: a slider moved there later shows it at once); the artists go back to the
        current values. Values the library refuses (a ValueError) are skipped."""
        key = self._frame_key(values)
        if key in self._frames:
            return
        try:
            self._render(self._compute_data(self.memo, **values))
        except ValueError:
            return
        self._draw_and_keep(key)
        self._compute()                           # the artists hold the current values again

    def _compute(self):
        """(status HTML, None) after ``render(compute(...))``, or (the ValueError's message in red, that
        message): the library refused the values, and the artists keep the last valid ones."""
        try:
            return self._render(self._compute_data(self.memo, **self.values())), None
        except ValueError as err:
            error = unicode_text(str(err))
            return f"<b style='color:#c00000'>⚠ {html.escape(error)}</b>", error

    def _show(self, message, error, start, render=True):
        """Send the new frame (if ``render``; after an invalid choice the last valid frame greyed, with the
        reason) and the status line with the hidden frame record, which names the slider values of the
        frame on screen (after an invalid choice: the last valid one, and ``"stale": true``)."""
        if error is not None and render and self.updates:
            self.image.value = self._stale_frame(error)
        elif render and error is None:
            self.image.value, self._text_px = self._encoded_frame()
            self.updates += 1
            self._shown_values = self.values()
            self.neighbours.replace([partial(self._prerender_neighbour, name, step) for name in self.sliders
                                     for step in (1, -1)])
        self.last_ms = 1e3 * (time.perf_counter() - start)
        frame = json.dumps({"update": self.updates, "values": self._shown_values, "figure_css_width": self.css_size[0],
                            "min_text_px": self._text_px, "stale": error is not None}, default=str)
        self.status.value = (f"{message}<span class='cpteach-frame' style='display:none'>"
                             f"{html.escape(frame, quote=False)}</span>")

    def _prerender_neighbour(self, name, step):
        """:meth:`prerender` the values one arrow key away on the slider ``name`` (``step`` = +1 or -1), where
        the browser's next value is known exactly: an integer slider's value +- its step, a selection
        slider's next option (a float slider's value is rounded in the browser: none)."""
        slider = self.sliders.get(name)
        if isinstance(slider, widgets.IntSlider):
            value = slider.value + step * slider.step
            ok = slider.min <= value <= slider.max
        elif isinstance(slider, widgets.SelectionSlider):
            index = slider.index + step
            ok = 0 <= index < len(slider.options)
            value = slider.options[index] if ok else None
        else:
            return
        if ok:
            self.prerender(**{**self.values(), name: value})

    def _encoded_frame(self):
        """(the encoded frame of the current slider values, its smallest text in CSS px): from the frame
        cache where these values were drawn before with this layout, else drawn (:meth:`_frame`) and kept."""
        key = self._frame_key(self.values())
        self.last_frame_cached = key in self._frames
        if self.last_frame_cached:
            self.cached_frames += 1
            self._frames.move_to_end(key)
            return self._frames[key]
        return self._draw_and_keep(key)

    def _frame_key(self, values):
        """The frame cache's key of the slider ``values`` (a dict name -> value), in the sliders' order."""
        return tuple((name, values[name]) for name in self.sliders)

    def _draw_and_keep(self, key):
        """Draw the frame of the artists as they are (:meth:`_frame`) and keep it, with its smallest text,
        for the slider values ``key`` (the oldest frame goes beyond ``frame_cache``); return the pair."""
        entry = self._frames[key] = (self._frame(), self._frame_text_px())
        while len(self._frames) > self._frame_cache:
            self._frames.popitem(last=False)
        return entry

    def _stale_frame(self, error):
        """The encoded last valid figure (the artists still hold it) under a white veil, with ``error`` (the
        library's message) and the values it shows in red on top: a refused choice never looks computed."""
        reason = textwrap.fill(error.split(". ")[0], 60)
        self._notice.set_text(f"{reason}\n\nNot computed. Greyed: the last valid choice,\n"
                              f"{textwrap.fill(self._describe(self._shown_values), 60)}")
        self._veil.set_visible(True)
        self._notice.set_visible(True)
        try:
            return self._frame()
        finally:
            self._veil.set_visible(False)
            self._notice.set_visible(False)
            self._notice.set_text("")

    def _frame(self):
        """The encoded figure: the cached background (:class:`Background`, repainted where an axes'
        limits, scale, static title or static images changed) plus the animated artists."""
        self.background.restore()
        for artist in (*self._animated, self._veil, self._notice):
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return _encode(self.figure.canvas, self._format)

    @property
    def full_draws(self):
        """How often the whole background was drawn."""
        return self.background.full_draws

    @property
    def partial_draws(self):
        """How often a region of the background was repainted."""
        return self.background.partial_draws
