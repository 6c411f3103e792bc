"""Figures shared by the notebooks and the widgets.

Every ``plot_*`` function draws into a given matplotlib ``Axes``, labels the axes, sets
a title and returns the artists it created, so that a widget can later change their
data with the matching ``update_*`` function instead of redrawing the figure.
``new_figure`` makes a ``matplotlib.figure.Figure`` that needs no pyplot state (safe
inside widget callbacks; no ``rcParams`` are touched).

Examples
--------
>>> import numpy as np
>>> fig, (ax,) = new_figure(1)
>>> lines = plot_convergence(ax, {"gap": np.array([1.0, 0.1, 0.01])}, ylabel="gap")
>>> update_lines(lines, {"gap": np.array([1.0, 0.5, 0.2, 0.1])})
>>> lines["gap"].get_ydata().tolist()
[1.0, 0.5, 0.2, 0.1]
"""
from __future__ import annotations

import io

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure

__all__ = ["NotebookFigure", "new_figure", "plot_signals", "plot_convergence", "plot_heatmap", "plot_images",
           "update_lines", "update_heatmap", "figure_png", "plot_filters"]



class NotebookFigure(Figure):
    """A matplotlib ``Figure`` that shows itself as PNG when it ends a notebook cell.

    It needs neither pyplot nor ``%matplotlib inline``: IPython calls ``_repr_png_``.
    """

    def _repr_png_(self):
        return figure_png(self, dpi=100, bbox_inches="tight")


def new_figure(ncols, nrows=1, width=4.0, height=3.2, **kwargs):
    """A :class:`NotebookFigure` with ``nrows x ncols`` axes (returned flat), without pyplot.

    Leave the figure as the last expression of a notebook cell to show it;
    :func:`figure_png` renders it to PNG bytes.
    """
    fig = NotebookFigure(figsize=(width * ncols, height * nrows), layout="constrained", **kwargs)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    return fig, tuple(axes)


def figure_png(fig, dpi=72, bbox_inches=None):
    """Render ``fig`` to PNG bytes (used by the widgets' image view and notebook display).

    Without ``bbox_inches`` (the dashboards' case, called on every slider move) the figure is
    drawn once by Agg and encoded with light compression: about 40 % faster than ``savefig``.
    """
    buffer = io.BytesIO()
    if bbox_inches is not None:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=bbox_inches)
        return buffer.getvalue()
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buffer, format="png", compress_level=1)
    return buffer.getvalue()


def plot_signals(ax, signals, title="Signals", xlabel="index i", ylabel="value"):
    """Draw 1-D signals (a dict label -> array) as lines; return dict label -> Line2D.

    The first signal named ``"noisy data x"`` (if any) is drawn as dots so that the
    smooth reconstruction stays visible on top of it.
    """
    lines = {}
    for label, values in signals.items():
        style = {"marker": ".", "linestyle": "none", "alpha": 0.5} if label.startswith("noisy") else {}
        (lines[label],) = ax.plot(np.arange(len(values)), values, label=label, **style)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    return lines


def plot_convergence(ax, curves, title="Convergence", xlabel="iteration l", ylabel="value", start=0):
    """Draw positive sequences (dict label -> array) on a log y-axis against l.

    Entry j of each curve is drawn at l = start + j. Zeros are drawn at a tiny floor so
    Exact zeros (a run that converged to machine precision) are left out, as a log
    axis cannot show them. Returns dict label -> Line2D.
    """
    lines = {}
    for label, values in curves.items():
        (lines[label],) = ax.semilogy(*_log_xy(values, start), label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    return lines


def _log_xy(values, start):
    values = np.abs(np.asarray(values, dtype=float))
    return start + np.arange(len(values)), np.where(values > 0, values, np.nan)


def update_lines(lines, data, start=None):
    """Set new y-data (dict label -> array) of lines from ``plot_signals``/``plot_convergence``.

    Lines on a log axis drop zeros as in :func:`plot_convergence`; ``start`` (for
    log-axis curves) is the l of the first entry. The axes are rescaled to the new data.
    """
    axes = set()
    for label, values in data.items():
        line = lines[label]
        ax = line.axes
        if ax.get_yscale() == "log":
            x, y = _log_xy(values, 0 if start is None else start)
        else:
            y = np.asarray(values, dtype=float)
            x = np.arange(len(y))
        line.set_data(x, y)
        axes.add(ax)
    for ax in axes:
        ax.relim()
        ax.autoscale_view()


def plot_heatmap(ax, data, title, xlabel, ylabel, extent=None, cmap="RdBu_r", colorbar_label=None,
                 decades=None):
    """Show a 2-D array with a colour scale symmetric about 0; return the AxesImage.

    Parameters
    ----------
    ax : matplotlib Axes
    data : array (rows, cols)
    title, xlabel, ylabel : str
    extent : (left, right, bottom, top) or None
        Data coordinates of the image edges (e.g. iteration numbers on one axis).
    cmap : str, a diverging colour map (blue < 0 < red by default)
    colorbar_label : str or None, adds a colour bar with this label
    decades : int or None
        None: linear colour scale. An int d: signed logarithmic scale (``SymLogNorm``)
        resolving values down to max|data| / 10**d, for adjoints that decay over
        many orders of magnitude.
    """
    image = ax.imshow(data, aspect="auto", cmap=cmap, interpolation="nearest", origin="lower",
                      extent=extent)
    image.decades = decades
    _symmetric_clim(image, data)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if colorbar_label is not None:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    return image


def update_heatmap(image, data, extent=None):
    """Replace the data (and optionally the extent) of a heat map; keep the scale symmetric."""
    image.set_data(data)
    if extent is not None:
        image.set_extent(extent)
    _symmetric_clim(image, data)


def _symmetric_clim(image, data):
    vmax = float(np.max(np.abs(data))) if np.size(data) else 0.0
    vmax = vmax if vmax > 0 and np.isfinite(vmax) else 1.0
    if image.decades is None:
        if type(image.norm) is Normalize:
            image.set_clim(-vmax, vmax)     # cheaper than a new norm (the colour bar keeps its axis)
        else:
            image.set_norm(Normalize(-vmax, vmax))
        return
    linthresh = vmax / 10.0**image.decades
    norm = image.norm
    if isinstance(norm, SymLogNorm) and 0.1 <= norm.linthresh / linthresh <= 10:
        image.set_clim(-vmax, vmax)         # keep the norm while the scale stays within a decade
        linthresh = norm.linthresh
    else:
        image.set_norm(SymLogNorm(linthresh, vmin=-vmax, vmax=vmax))
    if image.colorbar is not None:          # a few labelled ticks instead of one per decade
        middle = np.sqrt(linthresh * vmax)
        ticks = [-vmax, -middle, -linthresh, 0.0, linthresh, middle, vmax]
        image.colorbar.set_ticks(ticks, labels=[f"{t:.0e}" for t in ticks])


def plot_images(axes, images, cmap="gray", vmin=0.0, vmax=1.0):
    """Show images (dict title -> 2-D array) side by side on ``axes``; return the AxesImages."""
    shown = {}
    for ax, (title, image) in zip(axes, images.items()):
        shown[title] = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title)
        ax.set_xlabel("pixel column")
        ax.set_ylabel("pixel row")
    return shown


def plot_filters(ax, filters, title="Filters", columns=8):
    """Show a bank of filters (c, k1, k2) as a grid, each scaled to its own max |value|.

    Grey is 0, white and black are + and - the filter's largest magnitude; filter i sits in
    row i // columns, column i % columns. Returns the AxesImage.
    """
    filters = np.asarray(filters, dtype=float)
    c, k1, k2 = filters.shape
    rows = -(-c // columns)
    grid = np.full((rows * (k1 + 1) + 1, columns * (k2 + 1) + 1), np.nan)
    scale = np.maximum(np.abs(filters).max(axis=(1, 2)), 1e-300)
    for i in range(c):
        r, q = divmod(i, columns)
        grid[1 + r * (k1 + 1):1 + r * (k1 + 1) + k1, 1 + q * (k2 + 1):1 + q * (k2 + 1) + k2] = filters[i] / scale[i]
    image = ax.imshow(grid, cmap="gray", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.set_xlabel(f"filter column ({k2} pixels each)")
    ax.set_ylabel(f"filter row ({k1} pixels each)")
    return image
