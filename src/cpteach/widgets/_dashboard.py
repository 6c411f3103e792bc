"""The machinery every dashboard shares: a live figure behind sliders, drawn by blitting.

A dashboard is three layers (docs/theory.md gives the equations):

1. a *compute* function of plain inputs that returns a frozen dataclass or raises the
   library's ValueError (e.g. for tau*sigma*||K||^2 >= 1),
2. a *redraw* function that writes such a result into existing matplotlib artists
   (set_data / set_ydata / set_array; no figure is rebuilt) and returns a status line,
3. a *builder* that creates the figure once, wires the sliders and returns a :class:`Dashboard`.

Rendering (why it is fast enough to follow a dragged slider). Everything a slider only
moves is an *animated* artist (curves, heat maps, titles with numbers). The rest (axes,
ticks, labels, legends, colour bars) is drawn once by Agg into a cached background; a
slider change restores that background, draws the animated artists on top and sends the
canvas as a JPEG (or PNG) through an ``ipywidgets.Image``. Only the axes whose limits,
colour scale, static title or static image changed are redrawn into the background, which
the dashboards make rare by snapping limits to decades and 1-2-5 steps
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
import time

import ipywidgets as widgets
import PIL.Image
from IPython.display import Image, Markdown, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import IdentityTransform

from ..chambolle_pock import chambolle_pock, check_steps
from ..plotting import nice_ceil

__all__ = ["Dashboard", "RunCache", "trace_cache", "step_sliders", "step_condition_html"]

CSS_DPI = 96          # matplotlib points map to CSS points: 10 pt text is 13.3 CSS px
PIXEL_RATIO = 2.0     # rendered pixels per CSS pixel


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


class RunCache:
    """Runs of one dashboard, long enough for the L slider to only index them.

    ``cache(key, L)`` returns ``compute(*key, length)`` for a length >= L: a run for the same
    key (e.g. tau, sigma, theta) that is long enough is reused, otherwise one of length
    min(L_max, nice_ceil(L)) is computed (so a drag of L from 1 to 500 computes about eight
    runs, and a drag of tau at small L stays cheap). The ``size`` latest keys are kept.
    The caller takes ``run.prefix(L)``.
    """

    def __init__(self, compute, L_max, size=8):
        self._compute, self._L_max, self._size = compute, int(L_max), int(size)
        self._runs = {}

    def __call__(self, key, L):
        run, length = self._runs.pop(key, (None, -1))
        if length < L:
            length = min(self._L_max, max(int(nice_ceil(L)), int(L)))
            run = self._compute(*key, length)
        self._runs[key] = (run, length)
        while len(self._runs) > self._size:
            self._runs.pop(next(iter(self._runs)))
        return run


def trace_cache(problem, L_max):
    """A :class:`RunCache` of :func:`cpteach.chambolle_pock` traces of ``problem``, keyed by (tau, sigma, theta)."""
    K, F, G, x = problem.K, problem.F, problem.G, problem.x
    return RunCache(lambda tau, sigma, theta, length: chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta,
                                                                     L=length), L_max)


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

    Parameters
    ----------
    sliders : dict name -> ipywidgets value widget
    figure : matplotlib Figure (constrained layout is computed once, then frozen)
    redraw : callable(**slider values) -> status HTML; updates the artists in place and
        raises ValueError for an invalid combination (shown in red; the figure keeps the
        last valid frame)
    animated : artists that change with the sliders (drawn on the cached background)
    pixel_ratio : float, rendered pixels per CSS pixel (2: sharp on high-density screens)
    image_format : "jpeg" (default, fast) or "png"

    Attributes
    ----------
    sliders, figure, status (ipywidgets.HTML), image (ipywidgets.Image), controls (the box
    of sliders), updates (number of frames drawn), last_ms (time of the last update),
    last_active (``time.monotonic()`` of the last slider change),
    full_draws, partial_draws (how often the background was redrawn, wholly or some axes).

    The status line carries a hidden ``<span class="cpteach-frame">`` with the update
    counter and the slider values of the frame (JSON) for the browser tests; the CSS
    classes ``cpteach-dashboard``, ``cpteach-status`` and ``cpteach-figure`` mark the parts.
    """

    def __init__(self, sliders, figure, redraw, *, animated=(), pixel_ratio=PIXEL_RATIO, image_format="jpeg"):
        self.sliders = dict(sliders)
        self.figure = figure
        self._redraw = redraw
        self._animated = list(animated)
        for artist in self._animated:
            artist.set_animated(True)
        self.updates = self.full_draws = self.partial_draws = 0
        self.last_ms = 0.0
        self.last_active = time.monotonic()
        self._keys = self._background = None
        self._blank = Rectangle((0, 0), 1, 1, transform=IdentityTransform(), facecolor=figure.get_facecolor(),
                                edgecolor="none")
        self.status = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))
        self.status.add_class("cpteach-status")
        if image_format not in ("jpeg", "png"):
            raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
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
    def css_size(self):
        """(width, height) of the shown figure in CSS pixels."""
        width, height = self.figure.get_size_inches()
        return round(width * CSS_DPI), round(height * CSS_DPI)

    def set_pixel_ratio(self, pixel_ratio):
        """Render at ``pixel_ratio`` pixels per CSS pixel from now on (the layout is computed anew)."""
        self.figure.set_dpi(CSS_DPI * float(pixel_ratio))
        FigureCanvasAgg(self.figure)
        self.figure.set_layout_engine("constrained")
        self.figure.canvas.draw()                 # lays the figure out and draws the background
        self.figure.set_layout_engine("none")    # keep this layout: redraws stay cheap
        self.full_draws += 1
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        self._keys = self._background_keys()
        renderer = self.figure.canvas.get_renderer()
        pad = 3 * pixel_ratio                     # the region of each axes (ticks and labels included)
        self._slots = [ax.get_tightbbox(renderer).padded(pad) for ax in self.figure.axes]
        width, _ = self.css_size
        self.image.layout = widgets.Layout(width=f"{width}px", max_width="100%", height="auto")
        if self.updates:
            self.update()

    def side_by_side(self, controls_width="19em", max_height="calc(100vh - 160px)", zoom=1.0):
        """Put the sliders and the status line in a column left of the figure, and let the figure fill
        the rest of the width up to ``max_height`` (a CSS length; the presenter view on one screen).

        ``zoom`` > 1 lays the figure out ``zoom`` times smaller (same pixels), so that, stretched to
        the same width, its text comes out ``zoom`` times larger (for a projector).
        """
        if zoom != 1.0:
            width, height = self.figure.get_size_inches()
            self.figure.set_size_inches(width / zoom, height / zoom)
            self.set_pixel_ratio(PIXEL_RATIO * zoom)
        self.controls.layout.grid_template_columns = "1fr"
        self.image.layout = widgets.Layout(flex="1 1 0%", min_width="0", height="auto", max_height=max_height,
                                           object_fit="contain", object_position="left top")
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

    def _compute(self):
        """(status HTML, True) after ``redraw``, or (the ValueError's message in red, False)."""
        try:
            return self._redraw(**self.values()), True
        except ValueError as err:
            return f"<b style='color:#c00000'>⚠ {html.escape(str(err))}</b>", False

    def _show(self, message, render, start):
        """Send the new frame (if ``render``) and the status line with the hidden frame record."""
        if render:
            self.image.value = self._frame()
            self.updates += 1
        self.last_ms = 1e3 * (time.perf_counter() - start)
        frame = json.dumps({"update": self.updates, "values": self.values()}, default=str)
        self.status.value = (f"{message}<span class='cpteach-frame' style='display:none'>"
                             f"{html.escape(frame, quote=False)}</span>")

    def _background_keys(self):
        """Per axes, what the cached background shows of it: limits, scales, a static title, static images."""
        return [(ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
                 None if ax.title.get_animated() else ax.title.get_text(),
                 tuple((id(im.get_array()), im.norm.vmin, im.norm.vmax) for im in ax.images if not im.get_animated()))
                for ax in self.figure.axes]

    def _frame(self):
        """The encoded figure: the cached background plus the animated artists.

        Only the axes whose limits, scale or static title changed are redrawn into the
        background, each inside its region (its tight bounding box when the layout was
        frozen, which constrained layout keeps apart from the others); the first frame
        draws everything.
        """
        figure, canvas = self.figure, self.figure.canvas
        keys = self._background_keys()
        if self._keys is None or len(keys) != len(self._keys):
            canvas.draw()                                   # animated artists are left out (images are not)
            self.full_draws += 1
        else:
            changed = [(ax, slot) for ax, slot, key, old in zip(figure.axes, self._slots, keys, self._keys)
                       if key != old]
            if changed:
                canvas.restore_region(self._background)
                renderer = canvas.get_renderer()
                for ax, box in changed:
                    self._blank.set_bounds(box.x0, box.y0, box.width, box.height)
                    figure.draw_artist(self._blank)
                    ax.draw(renderer)                       # leaves the animated artists out, too
                self.partial_draws += 1
        if self._keys is None or keys != self._keys:
            self._background = canvas.copy_from_bbox(figure.bbox)
            self._keys = keys
        else:
            canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                figure.draw_artist(artist)
        return _encode(canvas, self._format)
