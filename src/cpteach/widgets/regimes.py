"""The lecturer's figure as a dashboard: unrolled, one-step and implicit gradients in three regimes (section 5)."""
from __future__ import annotations

import math
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from ..fixed_point import gradient_regimes
from ..plotting import new_figure, plot_gradient_regimes
from ..problems import ball_problem, l1_l1_problem, tv_l1_denoising_1d
from ._dashboard import Dashboard

__all__ = ["regimes_dashboard"]


@lru_cache(maxsize=2)
def _regimes(L_max, points):
    """:func:`cpteach.fixed_point.gradient_regimes` of the three teaching regimes (computed once per setting)."""
    return gradient_regimes({"0/1 masks, summable (L1-L1)": l1_l1_problem(), "ball (6.1)": ball_problem(),
                             "TV-L1": tv_l1_denoising_1d()}, L_max=L_max, points=points)


def regimes_dashboard(problem=None, L=100, L_max=2000, points=12):
    """Dashboard of the lecturer's figure: how the unrolled gradient (3.4) approaches the implicit one (5.5).

    The figure of :func:`cpteach.plotting.plot_gradient_regimes` for three problems (L1-L1 with
    0/1 masks, the ball problem of (6.1), TV-L1 without limit), computed once by
    :func:`cpteach.fixed_point.gradient_regimes`; the L slider (log scale, as the L axis) moves a marker over both panels
    and the status line reads the error and cosine of each problem at the largest L' <= L of
    the grid. ``problem`` is accepted (so the presenter can pass its choice) but the figure
    always compares the same three problems.

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> board = regimes_dashboard(L=10, L_max=50, points=4)
    >>> sorted(board.sliders)
    ['L']
    """
    result = _regimes(L_max, points)
    # a log slider for the log L axis: the marker moves evenly with the hand (redraw rounds L to an integer)
    sliders = {"L": widgets.FloatLogSlider(value=L, base=10, min=0, max=math.log10(L_max), step=0.01,
                                           readout_format=".0f", description="L", continuous_update=True,
                                           style={"description_width": "1.5em"},
                                           layout=widgets.Layout(width="auto", min_width="12em"))}
    fig, (ax_err, ax_cos) = new_figure(2, width=4.3, height=3.3)
    plot_gradient_regimes((ax_err, ax_cos), result)
    markers = [ax.axvline(L, color="0.4", linewidth=1) for ax in (ax_err, ax_cos)]

    def redraw(L):
        L = round(L)
        for marker in markers:
            marker.set_xdata([L, L])
        m = int(np.searchsorted(result.Ls, L, side="right")) - 1
        if m < 0:
            return f"L = {L}: below the first L' = {result.Ls[0]} of the grid"
        parts = [f"{name}: error {result.rel_error[i, m]:.1e}, cosine {result.cosine[i, m]:.3f}"
                 for i, name in enumerate(result.names)]
        return f"L = {L}; values at L' = {result.Ls[m]}, the largest grid point ≤ L:<br>" + "<br>".join(parts)

    return Dashboard(sliders, fig, redraw, animated=markers)
