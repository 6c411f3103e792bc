"""Notebook 02's dashboard: the backward recursion (3.0)-(3.3) and grad_K (3.4), live."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..backprop import BackpropResult, backprop
from ..chambolle_pock import chambolle_pock
from ..plotting import (decade_limits, integer_ticks, legend_outside, new_figure, percentile_scale, plot_convergence, plot_heatmap,
                        update_heatmap)
from ..problems import tv_denoising_1d
from ._controls import step_condition_html, step_sliders
from ._dashboard import Dashboard, axis_length, fixed_width_ticks, trace_run
from ._state import model_key

__all__ = ["BackpropFrame", "backprop_frame", "backprop_render", "backprop_dashboard"]


def _padded(rows, length):
    """``rows`` (L, m) followed by NaN rows up to ``length`` (iterations not run show grey)."""
    out = np.full((length, rows.shape[1]), np.nan)
    out[:len(rows)] = rows
    return out


@dataclass(frozen=True)
class BackpropFrame:
    """What :func:`backprop_dashboard` shows: :func:`cpteach.backprop` of the first L steps of a
    cached run, the heat maps' height ``length`` (:func:`axis_length` of L), the signed log colour
    scales ``scales`` (name -> (vmax, decades) for delta_P, delta_D; :func:`_adjoint_scales`) and
    the status line."""

    result: BackpropResult
    length: int
    scales: dict
    status: str


def _same_length(L, L_max):
    """(first, last): the range of L whose heat maps have the height :func:`axis_length` of L."""
    length = axis_length(L, L_max)
    first = bisect.bisect_left(range(1, length + 1), length, key=lambda l: axis_length(l, L_max)) + 1
    return first, length


def backprop_frame(problem, L_max, memo, L, tau, sigma, theta):
    """The :class:`BackpropFrame` for the slider values (the forward run and the colour scales from ``memo``)."""
    status = step_condition_html(problem.K, tau, sigma, theta)
    first, last = _same_length(L, L_max)
    full = trace_run(problem, memo, last, L_max, tau, sigma, theta)
    scales = memo(("scales", *model_key(problem, tau, sigma, theta), first, last),
                  _adjoint_scales, full, problem.y, (first, last))
    return BackpropFrame(backprop(full.prefix(L), problem.y), last, scales, status)


def _decades(values, vmax):
    """How many decades below ``vmax`` a signed log scale resolves: down to the 10th percentile of the
    nonzero |values| (adjoints decay over many orders of magnitude), a multiple of 4 up to 16 (few redraws)."""
    nonzero = np.abs(values[values != 0])
    low = np.percentile(nonzero, 10) if nonzero.size else vmax
    return int(np.clip(4 * np.ceil(np.log10(vmax / low) / 4), 4, 16))


def _adjoint_scales(full, y, ends):
    """name -> (vmax, decades) of the signed log colour scales of delta_P, delta_D shared by the
    :func:`cpteach.backprop` results of the prefixes of ``full`` at ``ends`` (the first and the last L
    of one heat map height, :func:`_same_length`): vmax is the
    largest :func:`percentile_scale` of theirs rounded up to a decade, the decades the most
    :func:`_decades` of theirs. The scale changes only with the height (and tau, sigma, theta), so a
    dragged L rarely redraws the colour bars; at both ends at most 2% of the entries saturate."""
    results = [backprop(full.prefix(L), y) for L in ends]
    scales = {}
    for name in ("delta_P", "delta_D"):
        deltas = [getattr(res, name).reshape(len(getattr(res, name)), -1) for res in results]
        vmax = max(10.0 ** np.ceil(np.log10(percentile_scale(delta))) for delta in deltas)   # whole decades
        scales[name] = (vmax, max(_decades(delta, vmax) for delta in deltas))
    return scales


def backprop_render(artists, frame):
    """Write a :class:`BackpropFrame` into the artists of :func:`backprop_dashboard`; return the status line."""
    res, rows = frame.result, frame.length        # the heat maps' height follows L (axis_length)
    L = len(res.delta_P)
    delta_P, delta_D = res.delta_P.reshape(L, -1), res.delta_D.reshape(L, -1)
    for name, delta in (("delta_P", delta_P), ("delta_D", delta_D)):   # colour scale of this height (frame.scales)
        vmax, artists[name].decades = frame.scales[name]                    # decades: read by update_heatmap's SymLogNorm
        update_heatmap(artists[name], _padded(delta, rows), extent=(-0.5, delta.shape[1] - 0.5, 0.5, rows + 0.5),
                       vmax=vmax)
    update_heatmap(artists["grad_K"], res.grad_K, vmax=percentile_scale(res.grad_K))
    l = np.arange(1, L + 1)
    size_P, size_D = np.linalg.norm(delta_P, axis=1), np.linalg.norm(delta_D, axis=1)
    artists["norm_P"].set_data(l, np.where(size_P > 0, size_P, np.nan))
    artists["norm_D"].set_data(l, np.where(size_D > 0, size_D, np.nan))
    for line in (artists["norm_P"], artists["norm_D"]):
        line.set_marker("o" if L == 1 else "None")  # a line through one point draws nothing
    ax = artists["norm_P"].axes
    ax.set_xlim(0.5, rows + 0.5)
    ax.set_ylim(*decade_limits(size_P, size_D, step=8))   # steps of 8 decades: few redraws
    return frame.status + f"; loss ½‖y\u00a0−\u00a0xᴸ‖²\u00a0=\u00a0{res.loss:.4g}"   # no break in the formula


def backprop_dashboard(problem=None, L=30, tau=None, sigma=None, theta=1.0, L_max=300):
    """Dashboard for notebook 02: the backward recursion (3.0)-(3.3) and grad_K (3.4), live.

    Sliders L, tau, sigma, theta; the forward run is cached per tau, sigma, theta (the L
    slider takes its first L steps) and :func:`cpteach.backprop` runs on that prefix. Heat
    maps show delta_P^l and delta_D^l (rows l = 1..L, columns the entries; grey rows are
    iterations beyond L; the height follows L) and grad_K. Each colour scale ends at the 98th
    percentile of the |values|, rounded up, so that a few large entries do not hide the rest: grad_K
    at this L, to 1, 2, 5; delta_P, delta_D (signed log scale) to a decade, the larger of the
    percentiles at the first and the last L of the current height (the scale changes with the
    height only, so a dragged L rarely redraws the colour bars); a fourth panel shows ||delta_P^l||,
    ||delta_D^l|| over l on a log scale. Step sizes with tau*sigma*||K||^2 >= 1 show the library's
    error in red.

    Parameters
    ----------
    problem : Problem or None (default: ``tv_denoising_1d(n=40, dense=True)``)
    L, tau, sigma, theta, L_max : as in :func:`cp_dashboard`

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> board = backprop_dashboard(L=5)
    >>> "(3.2)" in board.figure.axes[0].get_title()
    True
    """
    problem = tv_denoising_1d(n=40, dense=True) if problem is None else problem
    sliders = step_sliders(problem, L, tau, sigma, theta, L_max)
    first = backprop(chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=problem.tau, sigma=problem.sigma,
                                    theta=problem.theta, L=1), problem.y)
    n, k = first.delta_P[0].size, first.delta_D[0].size
    fig, axes = new_figure(2, nrows=2, width=4.4, height=2.7)
    images = {
        "delta_P": plot_heatmap(axes[0], first.delta_P.reshape(1, n), r"primal $\delta_P^l$ (3.2)", r"entry $i$ of $z_P$",
                                r"iteration $l$", colorbar_label="signed log scale,\ntop 2% saturate", decades=8),
        "delta_D": plot_heatmap(axes[1], first.delta_D.reshape(1, k), r"dual $\delta_D^l$ (3.3)", r"entry $i$ of $z_D$",
                                r"iteration $l$", colorbar_label="signed log scale,\ntop 2% saturate", decades=8),
        "grad_K": plot_heatmap(axes[2], first.grad_K, r"$\nabla_K \ell$ (3.4)", "column of K",
                               "row of K", colorbar_label="∂ℓ/∂K, top 2% saturate"),
    }
    norms = plot_convergence(axes[3], {r"primal $\|\delta_P^l\|$": np.linalg.norm(first.delta_P, axis=1),
                                       r"dual $\|\delta_D^l\|$": np.linalg.norm(first.delta_D, axis=1)},
                             title="Size of the adjoints", xlabel=r"iteration $l$",
                             ylabel="norm (log scale)", start=1)
    legend_outside(axes[3], "below")        # not beside: the delta_D colour bar above stays by its map
    integer_ticks(axes[3].xaxis)                   # iterations (the heat maps' axes: plot_heatmap)
    for ax in axes[:2]:
        fixed_width_ticks(ax.yaxis, L_max)         # iterations l up to L_max
    artists = {**images, **dict(zip(("norm_P", "norm_D"), norms.values()))}
    return Dashboard(sliders, fig, partial(backprop_frame, problem, L_max), partial(backprop_render, artists),
                     animated=(*images.values(), *norms.values()))   # the loss: in the status (not twice)
