"""The lecturer's figure as a dashboard: unrolled, one-step and implicit gradients in three regimes (section 5)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import ipywidgets as widgets
import numpy as np

from ..fixed_point import gradient_regimes
from ..plotting import new_figure, plot_gradient_regimes
from ..problems import ball_problem, l1_l1_problem, tv_l1_denoising_1d
from ._controls import theorem_text
from ._dashboard import Dashboard

__all__ = ["RegimesFrame", "regimes_frame", "regimes_render", "regimes_dashboard", "default_regimes"]


def default_regimes():
    """The three teaching regimes: L1-L1 with 0/1 masks (the sums (4.4) converge), the ball problem (the
    constraint of (6.1) on a random 30 x 20 K, not the poster's example), TV-L1 (no limit)."""
    return {"L1-L1": l1_l1_problem(), "ball constraint": ball_problem(),
            "TV-L1": tv_l1_denoising_1d()}


@dataclass(frozen=True)
class RegimesFrame:
    """What :func:`regimes_dashboard` shows at the slider's ``L`` (a float: the marker moves with every
    step of the log slider; the status reads the integer L): the index ``m`` of the largest grid
    point L' <= L (-1 below the grid) and each problem's error (the dots) and cosine at L, both
    interpolated linearly in log L between the grid points (the error's logarithm, too)."""

    L: float
    m: int
    error_at_L: np.ndarray
    cosine_at_L: np.ndarray


def regimes_frame(result, memo, L):
    """The :class:`RegimesFrame` of ``result`` (a :class:`cpteach.fixed_point.GradientRegimes`) at the slider's L."""
    m = int(np.searchsorted(result.Ls, round(L), side="right")) - 1
    log_L, log_grid = math.log10(L), np.log10(result.Ls)
    log_error = np.log10(np.maximum(result.rel_error, 1e-17))
    error = np.array([10.0 ** np.interp(log_L, log_grid, row) for row in log_error])
    cosine = np.array([np.interp(log_L, log_grid, row) for row in result.cosine])
    return RegimesFrame(L, m, error, cosine)


def regimes_render(result, artists, frame):
    """Write a :class:`RegimesFrame` into the marker lines and dots; return the status line: per problem the
    theorem's verdict and the values the dots show; for a problem without limit, the direction it grows in."""
    m, Ls = frame.m, result.Ls
    for marker in artists["markers"]:
        marker.set_xdata([frame.L, frame.L])
    at_L = np.full(len(frame.error_at_L), frame.L)
    artists["dots"].set_offsets(np.column_stack([at_L, frame.error_at_L]))
    artists["cosine_dots"].set_offsets(np.column_stack([at_L, frame.cosine_at_L]))
    L = round(frame.L)
    if m < 0:
        return f"L = {L}: below the first L' = {Ls[0]} of the grid"
    where = ("computed" if L == Ls[m] or m == len(Ls) - 1 else
             f"interpolated between the computed L = {Ls[m]} and {Ls[m + 1]}")
    lines = [f"L = {L} ({where}):"]
    for i, (name, reference) in enumerate(zip(result.names, result.references)):
        verdict = theorem_text(result.conditions[i]) + "; " if result.conditions else ""
        lines.append(f"{name}: {verdict}to {'implicit (5.5)' if reference == 'implicit' else 'one-step (5.3)'}: "
                     f"error {frame.error_at_L[i]:.1e}, cosine {frame.cosine_at_L[i]:.3f}")
    for name, growth in zip(result.names, result.growth_cosine):     # why a curve without limit turns to 1
        if np.isfinite(growth):
            lines.append(f"{name} has no limit: it grows along (4.6), which here has cosine {growth:.3f} to the "
                         "one-step gradient")
    return "<br>".join(lines)


def regimes_dashboard(problems=None, L=100, L_max=2000, points=12):
    """Dashboard of the lecturer's figure: how the unrolled gradient (3.4) approaches the implicit one (5.5).

    The figure of :func:`cpteach.plotting.plot_gradient_regimes` for ``problems`` (default
    :func:`default_regimes`: L1-L1 with 0/1 masks, the ball constraint on a random K, TV-L1 without
    limit), computed once by :func:`cpteach.fixed_point.gradient_regimes` on ``points``
    log-spaced L' <= ``L_max``. The L slider (log scale, as the L axis; 0.05 decade per
    arrow key) moves a marker over both panels and a dot along each curve (in its colour)
    (interpolated between grid points); the status line reads the error and cosine of each
    problem that the dots show.

    Parameters
    ----------
    problems : dict name -> Problem, or None (the three teaching regimes)
    L : int, where the marker starts
    L_max, points : the grid of :func:`cpteach.fixed_point.gradient_regimes`

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> board = regimes_dashboard(L=10, L_max=50, points=4)
    >>> sorted(board.sliders)
    ['L']
    """
    result = gradient_regimes(default_regimes() if problems is None else problems, L_max=L_max, points=points)
    # a log slider for the log L axis: the marker moves evenly with the hand (the status rounds L to an integer)
    sliders = {"L": widgets.FloatLogSlider(value=L, base=10, min=0, max=math.log10(L_max), step=0.05,
                                           readout_format=".0f", description="L", continuous_update=True,
                                           style={"description_width": "1.5em"},
                                           layout=widgets.Layout(width="auto", min_width="12em"))}
    fig, (ax_err, ax_cos) = new_figure(2, width=4.3, height=3.3)
    plot_gradient_regimes((ax_err, ax_cos), result)
    ax_cos.set(title="Direction (cosine to the reference)")
    markers = [ax.axvline(L, color="0.3", linewidth=2) for ax in (ax_err, ax_cos)]
    # one dot per problem and panel, in its curve's colour (grey dots could not be told apart)
    dots, cosine_dots = (ax.scatter([L] * len(result.names), np.ones(len(result.names)), s=64, zorder=4,
                                    edgecolors="0.2", c=[f"C{i}" for i in range(len(result.names))])
                         for ax in (ax_err, ax_cos))
    artists = {"markers": markers, "dots": dots, "cosine_dots": cosine_dots}
    return Dashboard(sliders, fig, partial(regimes_frame, result), partial(regimes_render, result, artists),
                     animated=(*markers, dots, cosine_dots))
