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
import math

import matplotlib
import numpy as np
import PIL.Image
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, ScalarFormatter
from matplotlib.transforms import ScaledTranslation

__all__ = ["NotebookFigure", "new_figure", "plot_signals", "plot_convergence", "plot_heatmap", "integer_ticks", "plot_images",
           "update_lines", "update_heatmap", "figure_png", "plot_filters", "legend_outside", "nice_ceil",
           "decade_limits", "linear_limits", "plot_gradient_regimes"]



class NotebookFigure(Figure):
    """A matplotlib ``Figure`` that shows itself as PNG when it ends a notebook cell.

    It needs neither pyplot nor ``%matplotlib inline``: IPython calls ``_repr_png_``. The PNG
    has twice the pixels of its shown size (1 inch = 96 CSS px), so it stays sharp on
    high-density screens and projectors.
    """

    def _repr_png_(self):
        png = figure_png(self, dpi=2 * 96, bbox_inches="tight")
        width, height = PIL.Image.open(io.BytesIO(png)).size
        return png, {"width": width // 2, "height": height // 2}


def new_figure(ncols, nrows=1, width=4.0, height=3.2, **kwargs):
    """A :class:`NotebookFigure` with ``nrows x ncols`` axes (returned flat), without pyplot.

    Leave the figure as the last expression of a notebook cell to show it;
    :func:`figure_png` renders it to PNG bytes.
    """
    fig = NotebookFigure(figsize=(width * ncols, height * nrows), layout="constrained", **kwargs)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    return fig, tuple(axes)


def figure_png(fig, dpi=100, bbox_inches=None):
    """Render ``fig`` to PNG bytes at ``dpi`` (``bbox_inches="tight"`` crops to the drawn content).

    The dashboards render their frames themselves (:mod:`cpteach.widgets`); this is for figures
    shown once.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=bbox_inches)
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
    legend_outside(ax)
    return lines


def plot_convergence(ax, curves, title="Convergence", xlabel="iteration l", ylabel="value", start=0):
    """Draw positive sequences (dict label -> array) on a log y-axis against l.

    Entry j of each curve is drawn at l = start + j. Exact zeros (a run that converged to
    machine precision) are left out, as a log axis cannot show them. Returns dict label -> Line2D.
    """
    lines = {}
    for label, values in curves.items():
        (lines[label],) = ax.semilogy(*_log_xy(values, start), label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    legend_outside(ax)
    return lines


def legend_outside(ax, where="right", **kwargs):
    """A legend beside (``where="right"``) or under (``"below"``) the axes, never on the data."""
    if where == "right":
        kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, **kwargs}
    elif where == "below":   # 0.45 inch under the axes: below the tick labels and the axis label
        below = ax.transAxes + ScaledTranslation(0.0, -0.45, ax.figure.dpi_scale_trans)
        kwargs = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "bbox_transform": below, "ncols": 2,
                  **kwargs}
    else:
        raise ValueError(f"where must be 'right' or 'below', got {where!r}")
    return ax.legend(fontsize="small", frameon=False, **kwargs)


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
                 decades=None, vmax=None, colorbar_axes=None):
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
    vmax : float or None
        The colour scale is [-vmax, vmax]; None: :func:`nice_ceil` of max|data| (give the
        same vmax to heat maps that are compared side by side).
    colorbar_axes : list of Axes or None, the axes the colour bar takes room from (default ``ax``)

    NaN entries (e.g. iterations not run) are shown in light grey.
    """
    image = ax.imshow(data, aspect="auto", cmap=_cmap(cmap), interpolation="nearest", origin="lower",
                      extent=extent, interpolation_stage="rgba")   # colour the data, then resample: fast
    image.decades = decades
    _symmetric_clim(image, data, vmax)
    integer_ticks(ax.xaxis, ax.yaxis)        # rows, columns, iterations: whole numbers (not 2.5 on 10 columns)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if colorbar_label is not None:
        ax.figure.colorbar(image, ax=ax if colorbar_axes is None else colorbar_axes, label=colorbar_label)
        image.colorbar.minorticks_off()
        if decades is None:     # mantissas and a power of ten on top: tick labels keep their width at any scale
            formatter = ScalarFormatter(useMathText=True)
            formatter.set_powerlimits((0, 0))
            image.colorbar.formatter = formatter
        _symlog_ticks(image)
    return image


def integer_ticks(*axes):
    """Tick the matplotlib ``axes`` (an Axes' ``xaxis``, ``yaxis``) at whole numbers, 1-2-5 steps apart, at least
    one tick: for entries, rows and iterations."""
    for axis in axes:
        axis.set_major_locator(MaxNLocator("auto", integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))


def _cmap(name):
    """The colour map ``name`` with NaN drawn light grey."""
    return matplotlib.colormaps[name].with_extremes(bad="0.88")


def update_heatmap(image, data, extent=None, vmax=None):
    """Replace the data (and optionally the extent) of a heat map; keep the scale symmetric.

    ``vmax`` as in :func:`plot_heatmap`.
    """
    image.set_data(data)
    if extent is not None:
        image.set_extent(extent)
    _symmetric_clim(image, data, vmax)


def nice_ceil(value):
    """The smallest number of the sequence 1, 2, 5, 10, 20, 50, ... that is >= ``value`` (> 0).

    Limits and colour scales snapped to it change rarely while a slider moves.

    >>> [nice_ceil(v) for v in (0.3, 1, 7, 11, 450)]
    [0.5, 1.0, 10.0, 20.0, 500.0]
    """
    value = float(value)
    if not value > 0 or not math.isfinite(value):
        return 1.0
    decade = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * decade >= value * (1 - 1e-12):
            return step * decade
    return 10.0 * decade


def percentile_scale(*arrays, q=98):
    """:func:`nice_ceil` of the ``q``-th percentile of the |entries| of ``arrays`` (pooled): a colour scale
    at which a few large entries saturate and the rest shows its structure.

    >>> percentile_scale(np.arange(101.0), q=98)
    100.0
    """
    return nice_ceil(np.percentile(np.abs(np.concatenate([np.ravel(a) for a in arrays])), q))


def decade_limits(*arrays, floor=1e-17, step=1, margin=1.0):
    """(10^a, 10^b): whole decades around the positive finite entries of ``arrays`` (log axes).

    Entries below ``floor`` are ignored; (floor, 1) if nothing is left. The lower exponent a
    is a multiple of ``step`` (a coarser step changes the limits less often as data move). With
    ``margin`` > 1 the limits also hold the largest entry times ``margin`` and the smallest divided
    by it (where that is at least ``floor``): no curve on the top or bottom frame.

    >>> decade_limits(np.array([0.03, 2.0, 0.0, np.nan]))
    (0.01, 10.0)
    >>> decade_limits(np.array([0.03, 2.0]), step=4)
    (0.0001, 10.0)
    >>> decade_limits(np.array([1.0, 9.0]), margin=3)
    (0.1, 100.0)
    """
    values = np.concatenate([np.ravel(np.abs(np.asarray(a, dtype=float))) for a in arrays])
    values = values[np.isfinite(values) & (values >= floor)]
    if values.size == 0:
        return floor, 1.0
    smallest, largest = values.min(), values.max() * margin
    smallest = smallest / margin if smallest / margin >= floor else smallest
    low = step * math.floor(math.log10(smallest) / step)
    high = math.ceil(math.log10(largest))
    return 10.0 ** low, 10.0 ** max(high, low + 1)


def linear_limits(*arrays, nbins=5):
    """Limits on tick values around the finite entries of ``arrays`` (linear axes).

    >>> linear_limits(np.array([0.13, 0.92]))
    (0.0, 1.0)
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12 * max(1.0, abs(high)):
        low, high = low - 0.5, high + 0.5
    ticks = MaxNLocator(nbins).tick_values(low, high)
    return float(ticks[0]), float(ticks[-1])


def _symmetric_clim(image, data, vmax=None):
    if vmax is None:
        finite = np.abs(np.asarray(data, dtype=float))
        finite = finite[np.isfinite(finite)]
        vmax = nice_ceil(finite.max()) if finite.size and finite.max() > 0 else 1.0
    norm = image.norm
    if image.decades is None:
        if type(norm) is not Normalize:
            image.set_norm(Normalize(-vmax, vmax))
        elif (norm.vmin, norm.vmax) != (-vmax, vmax):
            image.set_clim(-vmax, vmax)     # cheaper than a new norm (the colour bar keeps its axis)
        return
    linthresh = vmax / 10.0**image.decades
    if isinstance(norm, SymLogNorm) and (norm.linthresh, norm.vmax) == (linthresh, vmax):
        return
    image.set_norm(SymLogNorm(linthresh, vmin=-vmax, vmax=vmax))
    _symlog_ticks(image)


def _symlog_ticks(image):
    """A few labelled ticks on the colour bar of a signed-log heat map instead of one per decade."""
    if image.colorbar is None or image.decades is None:
        return
    vmax = image.norm.vmax
    middle = vmax / 10.0 ** (image.decades // 2)
    ticks = [-vmax, -middle, 0.0, middle, vmax]
    image.colorbar.set_ticks(ticks, labels=[_power_of_ten(t) for t in ticks])


def _power_of_ten(value):
    """A tick label in the notation of log axes: 0, $10^{-3}$, $-10^{-9}$, $5\\times10^{-2}$."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{abs(value):.0e}".split("e")
    sign = "-" if value < 0 else ""
    return rf"${sign}10^{{{int(exponent)}}}$" if mantissa == "1" else rf"${sign}{mantissa}\times10^{{{int(exponent)}}}$"


def plot_images(axes, images, cmap="gray", vmin=0.0, vmax=1.0):
    """Show images (dict title -> 2-D array) side by side on ``axes``; return the AxesImages."""
    shown = {}
    for ax, (title, image) in zip(axes, images.items()):
        shown[title] = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                                 interpolation_stage="data")   # resample the values, then colour: 2.7x faster here
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


# ---------------------------------------------------------------------------------------
# the lecturer's figure: unrolled gradients against L in three regimes (notebook 04)
# ---------------------------------------------------------------------------------------

def plot_gradient_regimes(axes, result):
    """The lecturer's figure: draw a :class:`cpteach.fixed_point.GradientRegimes` into two Axes (error, cosine).

    Left: relative error of the unrolled gradient (3.4) against L (log-log), the one-step
    gradient (5.3) as a dashed line of the same colour. Right: the cosines, with the reference
    itself at cosine 1 (black, dotted). The reference is the implicit gradient (5.5); a problem
    without one (no limit) is labelled "unrolled vs one-step": its curves are distances to the
    one-step gradient. Where ``result.conditions`` are known, each label says whether the theorem
    of section 5C holds ("5C holds" / "5C fails"). One legend under both panels (give it Axes of
    :func:`new_figure`, whose constrained layout makes room for it).
    Returns dict name -> Line2D (the unrolled error curves).

    Examples
    --------
    >>> from cpteach.fixed_point import GradientRegimes      # computed by cpteach.fixed_point.gradient_regimes
    >>> r = GradientRegimes(("a", "b"), ("implicit", "one-step"), np.array([1, 10]),
    ...                     np.array([[0.5, 0.9], [0.9, 0.5]]), np.array([[1.0, 0.1], [0.5, 2.0]]),
    ...                     np.array([0.4, np.nan]), np.array([0.9, np.nan]), np.array([1e-12, 1.0]))
    >>> fig, axes = new_figure(2)
    >>> sorted(plot_gradient_regimes(axes, r))
    ['a', 'b']
    """
    ax_err, ax_cos = axes
    lines = {}
    for i, (name, reference) in enumerate(zip(result.names, result.references)):
        tags = ([f"5C {'holds' if result.conditions[i].applies else 'fails'}"] if result.conditions else []) + (
            [] if reference == "implicit" else ["no limit"])                   # the theorem's verdict, checked
        label = f"{name}{' (' + ', '.join(tags) + ')' if tags else ''}: unrolled" + (
            "" if reference == "implicit" else " vs one-step")
        style = "o-" if reference == "implicit" else "x-."                    # another reference, another line
        (lines[name],) = ax_err.loglog(result.Ls, np.maximum(result.rel_error[i], 1e-17), style, color=f"C{i}",
                                       markersize=3 if reference == "implicit" else 6, label=label)
        ax_cos.semilogx(result.Ls, result.cosine[i], style, color=f"C{i}", markersize=3 if reference == "implicit"
                        else 6, label=label)
        if reference != "implicit":          # at a glance: this curve climbs towards the one-step gradient
            ax_cos.annotate(f"{name}: to one-step", (result.Ls[-1], result.cosine[i, -1]), xytext=(0.85, 0.04),
                            textcoords="axes fraction", ha="right", va="bottom", color=f"C{i}",
                            arrowprops={"arrowstyle": "->", "color": f"C{i}"},   # from the empty lower right,
                            # left of a marker at the largest L
                            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
        if reference == "implicit":
            ax_err.axhline(result.one_step_rel_error[i], color=f"C{i}", linestyle="--", label=f"{name}: one-step")
            ax_cos.axhline(result.one_step_cosine[i], color=f"C{i}", linestyle="--", label=f"{name}: one-step")
    ax_cos.axhline(1.0, color="k", linestyle=":", label="the reference: implicit (5.5), else one-step (5.3)")
    ax_err.set(xlabel="unrolled iterations $L$", ylabel="relative error to the reference",
               title="Distance to the reference")
    ax_cos.set(xlabel="unrolled iterations $L$", ylabel="cosine to the reference",
               title="Direction (cosine)", ylim=(min(-0.05, float(np.min(result.cosine)) - 0.05), 1.05))
    handles, labels = ax_cos.get_legend_handles_labels()        # one legend under both panels, two columns
    ax_cos.figure.legend(handles, labels, loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return lines
