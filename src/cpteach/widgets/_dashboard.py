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
end keeps at most one change per slider in flight and sends only the newest value once the
kernel is idle, so a fast drag coalesces instead of queueing, and the last frame shows the
final values.
"""
from __future__ import annotations

import html
import io
import json
import math
import os
import re
import time

import ipywidgets as widgets
import numpy as np
import PIL.Image
from IPython.display import Image, Markdown, display
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter
from matplotlib.axis import Axis, XAxis
from matplotlib.transforms import Bbox, IdentityTransform

from ..chambolle_pock import check_steps
from ._state import IdleWork, Memo, trace_run

__all__ = ["Dashboard", "Memo", "IdleWork", "trace_run", "envelope", "step_sliders", "step_condition_html",
           "axis_length", "unicode_text"]

CSS_DPI = 96          # matplotlib points map to CSS points: 10 pt text is 13.3 CSS px
PIXEL_RATIO = 2.0     # rendered pixels per CSS pixel


# ASCII notation of the library's messages and problem names -> the Unicode the dashboards show
_UNICODE = [(r"\|\|\.\|\|", "‖·‖"), (r"\|\|", "‖"), (r"\^2", "²"), (r"_1\b", "₁"), (r"\btau\b", "τ"),
            (r"\bsigma\b", "σ"), (r"\btheta\b", "θ"), (r"\bgrad_K\b", "∇_K ℓ"), (r"(?<=[τσ])\*(?=[σ‖])", ""),
            (r">=", "≥"), (r"<=", "≤"), (r"(?<=\d) x (?=\d)", " × ")]


def unicode_text(text):
    """``text`` with the ASCII notation of the library (tau*sigma*||K||^2 >= 1, ||.||_1, grad_K) in the
    Unicode the status lines use (τσ‖K‖² ≥ 1, ‖·‖₁, ∇_K ℓ).

    >>> unicode_text("tau*sigma*||K||^2 >= 1; lower tau (G = 0.3 ||.||_1)")
    'τσ‖K‖² ≥ 1; lower τ (G = 0.3 ‖·‖₁)'
    """
    for pattern, unicode in _UNICODE:
        text = re.sub(pattern, unicode, text)
    return text


def axis_length(L, L_max):
    """The right end of an iteration axis that shows l up to L: the smallest of 1, 1.5, 2, 3, 4, 5, 6, 8
    times a power of ten that is >= L, at most ``L_max``.

    It follows L both ways (the data fill at least two thirds of the axis beyond L = 10) and
    changes at a few values only, so that a dragged L rarely redraws the axes. It is never
    more than the length of a :meth:`Memo.run` (1, 2, 5 times a power of ten).

    >>> [axis_length(L, 2000) for L in (1, 7, 30, 285, 1500, 1999)]
    [1, 8, 30, 300, 1500, 2000]
    """
    decade = 10 ** max(0, len(str(int(L))) - 1)
    end = next(step * decade for step in (1, 1.5, 2, 3, 4, 5, 6, 8, 10) if step * decade >= L)
    return min(int(L_max), int(end))


def step_condition_html(K, tau, sigma, theta):
    """The status line for valid steps; raise the library's ValueError (prefixed) for invalid ones."""
    try:
        check_steps(K, tau, sigma, theta)
    except ValueError as err:
        raise ValueError(f"step-size condition violated: {err}. The figure shows the last valid choice.") from err
    product = tau * sigma * K.norm() ** 2
    return f"<span style='color:green'>τσ‖K‖² = {product:.3f} &lt; 1: step-size condition holds</span>"


def step_sliders(problem, L, tau, sigma, theta, L_max):
    """Sliders for L (int, 1..L_max), tau and sigma (log scale, about 10^-3 .. 4 / ||K||), theta in [0, 1].

    ``tau`` or ``sigma`` None starts at the problem's steps. They send values while dragged
    (``continuous_update=True``).
    """
    tau = problem.tau if tau is None else tau
    sigma = problem.sigma if sigma is None else sigma
    step_max = math.log10(4.0 / problem.K.norm())
    common = {"continuous_update": True, "style": {"description_width": "1.5em"},
              "layout": widgets.Layout(width="auto", min_width="12em")}

    def log_slider(value, description):
        # the browser snaps a slider to min + k * step: put the start value on that grid, else it is moved
        # (0.495 -> 0.491) and the figure no longer shows the steps the notebook computes with
        low = math.log10(value) - 0.01 * round((math.log10(value) - (step_max - 3)) / 0.01)
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=low + 3, step=0.01, readout_format=".3g",
                                      description=description, **common)

    return {
        "L": widgets.IntSlider(value=L, min=1, max=L_max, description="L", **common),
        "tau": log_slider(tau, "τ"),
        "sigma": log_slider(sigma, "σ"),
        "theta": widgets.FloatSlider(value=theta, min=0.0, max=1.0, step=0.05, description="θ",
                                     readout_format=".2f", **common),
    }


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


class Dashboard(widgets.VBox):
    """Sliders, a status line and a live matplotlib figure (an ipywidgets ``VBox``).

    Data flow of one frame: ``render(compute(memo, **slider values))``, with the dashboard's
    own bounded :class:`Memo` (the only state a dashboard keeps between frames).

    Parameters
    ----------
    sliders : dict name -> ipywidgets value widget
    figure : matplotlib Figure (constrained layout is computed once, then frozen)
    compute : callable(memo, **slider values) -> the frame's data (a frozen dataclass); raises
        ValueError for an invalid combination (shown in red; the figure keeps the last valid frame)
    render : callable(data) -> status HTML; writes the data into the figure's artists
        (set_data / set_ydata / set_array; no figure is rebuilt)
    animated : artists that change with the sliders (drawn on the cached background)
    pixel_ratio : float, rendered pixels per CSS pixel (2: sharp on high-density screens)
    image_format : "jpeg" (default, fast) or "png"
    memo_size : int, how many values the memo keeps

    Attributes
    ----------
    sliders, figure, memo, status (ipywidgets.HTML), image (ipywidgets.Image), controls (the
    box of sliders), updates (number of frames drawn), last_ms (time of the last update),
    last_active (``time.monotonic()`` of the last slider change), idle (:class:`IdleWork`, the
    work done while no slider moves), full_draws, partial_draws (how often the background was
    redrawn, wholly or some axes).

    The status line carries a hidden ``<span class="cpteach-frame">`` with the update
    counter, the slider values of the frame, the figure's CSS width and its smallest text in
    CSS px at that width (JSON) for the browser tests; the CSS
    classes ``cpteach-dashboard``, ``cpteach-status`` and ``cpteach-figure`` mark the parts.
    """

    def __init__(self, sliders, figure, compute, render, *, animated=(), pixel_ratio=PIXEL_RATIO,
                 image_format="jpeg", memo_size=32):
        if image_format not in ("jpeg", "png"):
            raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
        self.sliders = dict(sliders)
        self.figure = figure
        self.memo = Memo(memo_size)
        self._compute_data, self._render = compute, render
        self._animated = list(animated)
        for artist in self._animated:
            artist.set_animated(True)
        self.updates = self.full_draws = self.partial_draws = 0
        self.last_ms = 0.0
        self.last_active = time.monotonic()
        self.idle = IdleWork(lambda: self.last_active)
        self._keys = self._background = None
        self._painted, self._positions = [], []
        self._blank = Rectangle((0, 0), 1, 1, transform=IdentityTransform(), facecolor=figure.get_facecolor(),
                                edgecolor="none", antialiased=False)
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
        message, ok = self._compute()             # lay the figure out with the first frame's tick labels,
        self.set_pixel_ratio(pixel_ratio)         # in the same draw as the first background
        self._show(message, ok, start)
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    @property
    def min_text_px(self):
        """The size of the figure's smallest text in CSS px when it is shown at :attr:`css_size`."""
        return _smallest_text_px(self.figure.findobj(Text))

    def _frame_text_px(self):
        """:attr:`min_text_px` of the frame on screen: the background's texts, measured when it was
        painted, and the animated ones (walking the whole figure per frame cost up to 7 ms)."""
        return min(self._background_text_px, _smallest_text_px(a for a in self._animated if isinstance(a, Text)))

    @property
    def css_size(self):
        """(width, height) of the shown figure in CSS pixels."""
        width, height = self.figure.get_size_inches()
        return round(width * CSS_DPI), round(height * CSS_DPI)

    def set_pixel_ratio(self, pixel_ratio):
        """Render at ``pixel_ratio`` pixels per CSS pixel from now on (the layout is computed anew)."""
        self._pad = 3 * float(pixel_ratio)       # around each axes' box: antialiased edges
        self.figure.set_dpi(CSS_DPI * float(pixel_ratio))
        FigureCanvasAgg(self.figure)
        self.figure.set_layout_engine("constrained")
        self._draw_background()                   # lays the figure out and draws the background
        self.figure.set_layout_engine("none")    # keep this layout: redraws stay cheap
        width, _ = self.css_size
        self.image.layout = widgets.Layout(width=f"{width}px", max_width="100%", height="auto")
        if self.updates:
            self.update()

    def side_by_side(self, controls_width="19em", size=(900, 540), min_text_px=16.5):
        """Put the sliders and the status line in a column left of the figure, and lay the figure out
        for a shown size of ``size`` = (width, height) CSS pixels (the presenter on a 1280 x 720
        projector), so that its smallest text is ``min_text_px`` CSS pixels there.

        Text smaller than the tick labels (legends at "small") is raised to their size first; the
        figure is then laid out ``min_text_px`` / (that size in CSS px) times smaller than ``size``
        and rendered at the same pixels, so that, stretched to ``size``, all its text is large
        enough. The image keeps its aspect and shrinks only where the screen is smaller.
        """
        base = max(self.min_text_px * 72 / CSS_DPI, rcParams["xtick.labelsize"] if isinstance(rcParams["xtick.labelsize"], float)
                   else FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points())
        for text in self.figure.findobj(Text):
            if text.get_fontsize() < base:
                text.set_fontsize(base)
        zoom = min_text_px / (base * CSS_DPI / 72)
        width, height = size
        self.figure.set_size_inches(width / zoom / CSS_DPI, height / zoom / CSS_DPI)
        self.set_pixel_ratio(PIXEL_RATIO * zoom)
        self.controls.layout.grid_template_columns = "1fr"
        self.image.layout = widgets.Layout(flex="1 1 0%", min_width="0", height="auto", max_width=f"{width}px",
                                           max_height="calc(100vh - 150px)", object_fit="contain",
                                           object_position="left top")
        column = widgets.VBox([self.controls, self.status],
                              layout=widgets.Layout(width=controls_width, min_width=controls_width))
        self.children = [widgets.HBox([column, self.image], layout=widgets.Layout(align_items="flex-start"))]

    def _ipython_display_(self):
        """The widget; in a site build (``CPTEACH_STATIC_DASHBOARDS=1``, set by book/build.sh) its
        current frame as a plain PNG with a caption naming the slider values (no widget on the page)."""
        if os.environ.get("CPTEACH_STATIC_DASHBOARDS") != "1":
            display(self._repr_mimebundle_(), raw=True)
            return
        values = ", ".join(f"{slider.description or name} = {format(slider.value, getattr(slider, 'readout_format', ''))}"
                           for name, slider in self.sliders.items())
        display(Image(_encode(self.figure.canvas, "png"), width=self.css_size[0]))
        display(Markdown(f"*The dashboard's opening frame, at {values}. To move its sliders, run this notebook "
                         "in JupyterLab: the launch button (rocket) at the top of this page opens it on Binder, "
                         "or install cpteach as the front page says.*"))

    def values(self):
        """The current slider values as a dict name -> value."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def _on_change(self, change):
        self.update()

    def update(self, render=True):
        """Recompute for the current slider values, update the artists, send the new frame."""
        start = time.perf_counter()
        self.last_active = time.monotonic()
        message, ok = self._compute()
        self._show(message, ok and render, start)

    def redraw_all(self):
        """Draw the whole figure anew (the background included) and send it: what every frame must equal."""
        self._keys = None
        self.update()

    def _compute(self):
        """(status HTML, True) after ``render(compute(...))``, or (the ValueError's message in red, False)."""
        try:
            return self._render(self._compute_data(self.memo, **self.values())), True
        except ValueError as err:
            return f"<b style='color:#c00000'>⚠ {html.escape(unicode_text(str(err)))}</b>", False

    def _show(self, message, render, start):
        """Send the new frame (if ``render``) and the status line with the hidden frame record."""
        if render:
            self.image.value = self._frame()
            self.updates += 1
        self.last_ms = 1e3 * (time.perf_counter() - start)
        frame = json.dumps({"update": self.updates, "values": self.values(), "figure_css_width": self.css_size[0],
                            "min_text_px": self._frame_text_px()}, default=str)
        self.status.value = (f"{message}<span class='cpteach-frame' style='display:none'>"
                             f"{html.escape(frame, quote=False)}</span>")

    def _background_keys(self):
        """Per axes, what the cached background shows of it: limits, scales, a static title, static images."""
        return [(ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
                 None if ax.title.get_animated() else ax.title.get_text(),
                 tuple((id(im.get_array()), im.norm.vmin, im.norm.vmax) for im in ax.images if not im.get_animated()))
                for ax in self.figure.axes]

    def _layers(self):
        """What the background is painted from, in the figure's painting order: per axes its patch and
        children (the axes paints them, :meth:`_paint`), then the figure's legends and texts."""
        layers = [(ax, [ax.patch, *ax.get_children()]) for ax in self.figure.axes]
        return layers + [(None, [artist]) for artist in (*self.figure.legends, *self.figure.texts)]

    def _extent(self, artist, renderer):
        """The pixels ``artist`` paints into, padded for antialiasing, as whole pixels (x0, y0, x1, y1),
        or None where it paints nothing in the background (invisible or animated).

        An axis' extent holds its ticks, tick labels and label (and the axes' box where it draws
        grid lines); an artist clipped to a box paints inside that box.
        """
        if not artist.get_visible() or artist.get_animated():
            return None
        if isinstance(artist, Axis):
            box = artist.get_tightbbox(renderer)        # tick labels and the label, without the tick marks
            if box is not None:
                box = Bbox.union([box, *_tick_bands(artist, self.figure.dpi)])
            if box is not None and any(tick.gridline.get_visible() for tick in artist.get_major_ticks()):
                box = Bbox.union([box, artist.axes.bbox])
        elif artist.get_clip_on() and artist.get_clip_box() is not None:
            box = artist.get_clip_box()
            if isinstance(artist, Line2D):          # a line's points (a reference line is a thin band)
                box = Bbox.intersection(box, artist.get_window_extent(renderer))
        else:
            box = artist.get_window_extent(renderer)
        if box is None or not (box.x0 <= box.x1 and box.y0 <= box.y1):    # nothing (an empty collection)
            return None
        box = box.padded(self._pad)
        return (math.floor(box.x0), math.floor(box.y0), math.ceil(box.x1), math.ceil(box.y1))

    def _draw_background(self):
        """Draw the figure without its animated artists and remember it and each artist's extent."""
        canvas = self.figure.canvas
        canvas.draw()                                       # animated artists are left out
        self.full_draws += 1
        renderer = canvas.get_renderer()
        self._painted = [(owner, [(artist, self._extent(artist, renderer)) for artist in artists])
                         for owner, artists in self._layers()]
        self._positions = [ax.get_position().bounds for ax in self.figure.axes]
        self._keys = self._background_keys()
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._background_text_px = self._painted_text_px()

    def _stale_artists(self, i, key, old):
        """The artists of axes ``i`` whose pixels a change of its background key from ``old`` to ``key``
        changes: an axis whose limits or scale changed, everything drawn in data coordinates then,
        a changed static title, changed static images."""
        ax = self.figure.axes[i]
        x = key[0] != old[0] or key[2] != old[2]          # limits, scale
        y = key[1] != old[1] or key[3] != old[3]
        frame = {ax.patch, *ax.spines.values(), ax.xaxis, ax.yaxis, ax.title, ax._left_title, ax._right_title}
        stale = [ax.xaxis] * x + [ax.yaxis] * y
        if x or y:      # data moved: what is drawn in data coordinates, and a legend placed by the data
            stale += [a for a in ax.get_children() if a not in frame and (a is not ax.legend_ or ax.legend_._loc == 0)]
        if key[4] != old[4] or (x and ax.xaxis.get_ticks_position() != "bottom"):
            stale += [ax.title, ax._left_title, ax._right_title]
        if key[5] != old[5]:
            stale += [im for im in ax.images if not im.get_animated()]
        return stale

    def _repaint(self, changed):
        """Repaint the background where the axes ``changed`` (indices, with their old and new keys) differ.

        The region repainted is the old and new extent of every stale artist (:meth:`_stale_artists`);
        it is blanked, and every artist whose extent meets it is painted again, in the figure's order;
        pixels outside the region are then put back from the old background, so that the result
        equals a full draw pixel for pixel (the region is whole pixels, blanked without antialiasing).
        An axes whose children or position changed (a colour bar's new solids, an aspect) is stale
        as a whole; if an axes moved, the figure is drawn anew.
        """
        figure, canvas = self.figure, self.figure.canvas
        renderer = canvas.get_renderer()
        for ax in figure.axes:
            ax.apply_aspect()
        if [ax.get_position().bounds for ax in figure.axes] != self._positions:
            self._draw_background()
            return
        layers = self._layers()
        stale, region = set(), []
        for i, key, old in changed:
            now, before = layers[i][1], self._painted[i][1]
            if now == [artist for artist, _ in before]:
                stale.update(self._stale_artists(i, key, old))
            else:                                           # new children: the whole axes, old and new
                stale.update(now)
                region += [extent for _, extent in before]
        painted = []
        for (owner, artists), (_, before) in zip(layers, self._painted):
            old = dict(before)
            extents = [(a, self._extent(a, renderer) if a in stale or a not in old else old[a]) for a in artists]
            region += [old.get(a) for a in stale.intersection(old)] + [e for a, e in extents if a in stale]
            painted.append((owner, extents))
        region = [r for r in region if r is not None]
        canvas.restore_region(self._background)
        for x0, y0, x1, y1 in region:
            self._blank.set_bounds(x0, y0, x1 - x0, y1 - y0)
            figure.draw_artist(self._blank)
        for owner, extents in painted:
            again = [a for a, e in extents if e is not None and any(_overlap(e, r) for r in region)]
            if again:
                self._paint(owner, again, renderer)
        drawn = np.asarray(canvas.buffer_rgba()).copy()
        canvas.restore_region(self._background)             # outside the region: the old background
        pixels, height = np.asarray(canvas.buffer_rgba()), drawn.shape[0]
        for x0, y0, x1, y1 in region:
            rows, cols = slice(max(height - y1, 0), max(height - y0, 0)), slice(max(x0, 0), max(x1, 0))
            pixels[rows, cols] = drawn[rows, cols]
        self._painted = painted
        self._background = canvas.copy_from_bbox(figure.bbox)
        self._background_text_px = self._painted_text_px()
        self.partial_draws += 1

    def _painted_text_px(self):
        """:attr:`min_text_px` of the texts in the background (not animated)."""
        return _smallest_text_px(text for text in self.figure.findobj(Text) if not text.get_animated())

    @staticmethod
    def _paint(owner, artists, renderer):
        """Paint ``artists`` as a full draw does: through their axes (its order and context) with the
        other children hidden, or, for the figure's own legends and texts, directly.

        Painting more than needed is harmless (pixels outside the region are put back); the titles
        are never hidden, as the axes places each title by the extents of all three.
        """
        if owner is None:
            for artist in artists:
                artist.draw(renderer)
            return
        keep = {*artists, owner.title, owner._left_title, owner._right_title}
        hidden = [a for a in (owner.patch, *owner.get_children()) if a not in keep and a.get_visible()]
        for artist in hidden:
            artist.set_visible(False)
        try:
            owner.draw(renderer)
        finally:
            for artist in hidden:
                artist.set_visible(True)

    def _frame(self):
        """The encoded figure: the cached background plus the animated artists.

        Where an axes' limits, scale, static title or static images changed, the background is
        repainted there (:meth:`_repaint`); the first frame draws everything.
        """
        figure, canvas = self.figure, self.figure.canvas
        keys = self._background_keys()
        if self._keys is None or len(keys) != len(self._keys):
            self._draw_background()
        elif keys != self._keys:
            self._repaint([(i, key, old) for i, (key, old) in enumerate(zip(keys, self._keys)) if key != old])
            self._keys = keys
        else:
            canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                figure.draw_artist(artist)
        return _encode(canvas, self._format)


def _smallest_text_px(texts):
    """The font size in CSS px of the smallest non-empty text among ``texts`` (inf if there is none)."""
    return min((text.get_fontsize() for text in texts if text.get_text()), default=math.inf) * CSS_DPI / 72


def _tick_bands(axis, dpi):
    """Where the tick marks of ``axis`` can be: bands as wide as the longest tick mark along the axes'
    edges that carry ticks (bottom/top for an x axis, left/right for a y axis)."""
    box, ticks = axis.axes.bbox, (axis.majorTicks[0], axis.minorTicks[0])
    lines = [(tick.tick1line, tick.tick2line) for tick in ticks]
    size = max(line.get_markersize() + line.get_markeredgewidth() for pair in lines for line in pair) * dpi / 72
    bands = []
    for side in (0, 1):
        if any(pair[side].get_visible() for pair in lines):
            if isinstance(axis, XAxis):
                y = (box.y0, box.y1)[side]
                bands.append(Bbox([[box.x0 - size, y - size], [box.x1 + size, y + size]]))
            else:
                x = (box.x0, box.x1)[side]
                bands.append(Bbox([[x - size, box.y0 - size], [x + size, box.y1 + size]]))
    return bands


def _overlap(a, b):
    """Whether the pixel boxes (x0, y0, x1, y1) ``a`` and ``b`` share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
