"""Notebook 02's dashboard: the backward recursion (3.0)-(3.3) and grad_K (3.4), live."""
from __future__ import annotations

import numpy as np

from ..backprop import backprop
from ..plotting import decade_limits, new_figure, plot_convergence, plot_heatmap, update_heatmap
from ..problems import tv_denoising_1d
from ._dashboard import Dashboard, step_condition_html, fixed_width_ticks, step_sliders, trace_cache

__all__ = ["backprop_dashboard"]


def _padded(rows, length):
    """``rows`` (L, m) followed by NaN rows up to ``length`` (iterations not run show grey)."""
    out = np.full((length, rows.shape[1]), np.nan)
    out[:len(rows)] = rows
    return out


def backprop_dashboard(problem=None, L=30, tau=None, sigma=None, theta=1.0, L_max=300):
    """Dashboard for notebook 02: the backward recursion (3.0)-(3.3) and grad_K (3.4), live.

    Sliders L, tau, sigma, theta; the forward run is cached per tau, sigma, theta (the L
    slider takes its first L steps) and :func:`cpteach.backprop` runs on that prefix. Heat
    maps show delta_P^l and delta_D^l (rows l = 1..L, columns the entries; grey rows are
    iterations beyond L) and grad_K; a fourth panel shows ||delta_P^l||, ||delta_D^l|| over l
    on a log scale. Step sizes with tau*sigma*||K||^2 >= 1 show the library's error in red.

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
    K, y = problem.K, problem.y
    traces = trace_cache(problem, L_max)
    first = backprop(traces((problem.tau, problem.sigma, problem.theta), 1).prefix(1), y)
    n, k = first.delta_P[0].size, first.delta_D[0].size
    fig, axes = new_figure(2, nrows=2, width=4.4, height=2.7)
    images = {
        "delta_P": plot_heatmap(axes[0], first.delta_P.reshape(1, n), r"$\delta_P^l$ (3.2)", r"entry $i$ of $z_P$",
                                r"iteration $l$", colorbar_label="signed log scale", decades=8),
        "delta_D": plot_heatmap(axes[1], first.delta_D.reshape(1, k), r"$\delta_D^l$ (3.3)", r"entry $i$ of $z_D$",
                                r"iteration $l$", colorbar_label="signed log scale", decades=8),
        "grad_K": plot_heatmap(axes[2], first.grad_K, r"$\nabla_K \ell$ (3.4)", "column of K",
                               "row of K", colorbar_label="∂ℓ/∂K[row, column]"),
    }
    norms = plot_convergence(axes[3], {r"$\|\delta_P^l\|$": np.linalg.norm(first.delta_P, axis=1),
                                       r"$\|\delta_D^l\|$": np.linalg.norm(first.delta_D, axis=1)},
                             title="Size of the adjoints", xlabel=r"iteration $l$",
                             ylabel="norm (log scale)", start=1)
    norm_P, norm_D = norms.values()
    for ax in axes[:2]:
        fixed_width_ticks(ax.yaxis, L_max)         # iterations l up to L_max

    def redraw(L, tau, sigma, theta):
        status = step_condition_html(K, tau, sigma, theta)
        full = traces((tau, sigma, theta), L)
        res = backprop(full.prefix(L), y)
        delta_P, delta_D = res.delta_P.reshape(L, n), res.delta_D.reshape(L, k)
        rows = full.L                              # the heat maps' height changes with the cached run only
        update_heatmap(images["delta_P"], _padded(delta_P, rows), extent=(-0.5, n - 0.5, 0.5, rows + 0.5))
        update_heatmap(images["delta_D"], _padded(delta_D, rows), extent=(-0.5, k - 0.5, 0.5, rows + 0.5))
        update_heatmap(images["grad_K"], res.grad_K)
        axes[2].title.set_text(rf"$\nabla_K \ell$ (3.4), loss = {res.loss:.3g}")
        l = np.arange(1, L + 1)
        size_P, size_D = np.linalg.norm(delta_P, axis=1), np.linalg.norm(delta_D, axis=1)
        norm_P.set_data(l, np.where(size_P > 0, size_P, np.nan))
        norm_D.set_data(l, np.where(size_D > 0, size_D, np.nan))
        axes[3].set_xlim(0.5, rows + 0.5)
        axes[3].set_ylim(*decade_limits(size_P, size_D, step=4))
        return status + f"; loss ½‖y − x<sup>L</sup>‖² = {res.loss:.4g}"

    return Dashboard(sliders, fig, redraw, animated=(*images.values(), axes[2].title, norm_P, norm_D))
