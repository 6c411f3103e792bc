"""Dashboards for the notebooks: sliders for L, tau, sigma, theta and live figures.

Each dashboard has three layers (docs/theory.md gives the equations):

1. a *compute* function of plain inputs returning a frozen dataclass
   (:func:`cp_run`, :func:`backprop_run`),
2. a *render* function that writes such a result into existing matplotlib artists
   (set_data / set_ydata / set_array; no figure is rebuilt),
3. a *builder* (:func:`cp_dashboard`, :func:`backprop_dashboard`) that creates the
   figure once, wires the sliders and returns a :class:`Dashboard` (an ipywidgets
   ``VBox`` with ``.sliders``, ``.figure`` and ``.update()``).

A slider combination with tau*sigma*||K||^2 >= 1 does not raise: the dashboard shows a
red warning and keeps the last valid curves. The private helpers ``_step_sliders``,
``_step_condition`` and :class:`Dashboard` are meant to be reused by further builders.

Examples
--------
>>> board = cp_dashboard(L=20)
>>> board.sliders["tau"].value = 5.0          # breaks tau*sigma*||K||^2 < 1
>>> "violated" in board.status.value
True
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from . import operators, prox
from .backprop import backprop
from .chambolle_pock import chambolle_pock, check_steps, default_steps, solve
from .plotting import (figure_png, new_figure, plot_convergence, plot_heatmap, plot_signals,
                       update_heatmap, update_lines)

__all__ = ["DenoisingProblem", "tv_denoising_1d", "CPRun", "cp_run", "cp_dashboard",
           "BackpropRun", "backprop_run", "backprop_dashboard", "Dashboard",
           "DenoisingRun", "denoising_run", "denoising_dashboard"]


# ---------------------------------------------------------------------------------------
# teaching problems
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DenoisingProblem:
    """A problem min_u F(Ku) + G(u - x) of (1.1) with ground truth y and its solution x*.

    ``x`` is the noisy data, ``y`` the clean signal, ``x_star`` the minimiser of (1.1)
    (computed once by :func:`cpteach.chambolle_pock.solve`, used as the reference of
    ||x^l - x*||).
    """

    K: operators.LinearOperator
    F: prox.ProxFunction
    G: prox.ProxFunction
    x: np.ndarray
    y: np.ndarray
    x_star: np.ndarray
    name: str


def tv_denoising_1d(n=100, weight=0.2, noise_level=0.15, seed=0, dense=False):
    """1-D total-variation denoising: min_u weight*||D u||_1 + 0.5*||u - x||^2.

    The clean signal y is piecewise constant (four plateaus), the data
    x = y + noise_level * N(0, 1). K = D is the forward difference of
    :class:`cpteach.operators.FiniteDifference`, F = weight*||.||_1 and
    G = 0.5*||.||^2, so the solution x* is unique.

    Parameters
    ----------
    n : int >= 8, signal length
    weight : float > 0, the TV weight (lambda)
    noise_level : float >= 0, standard deviation of the Gaussian noise
    seed : int, seed of ``np.random.default_rng``
    dense : bool
        If True, K is a :class:`cpteach.operators.Matrix` holding D (k = n rows, the last
        one zero), so that ``backprop(...).grad_K`` is the full k x n gradient (3.4).

    Returns
    -------
    DenoisingProblem

    Examples
    --------
    >>> p = tv_denoising_1d(n=40)
    >>> p.x.shape, p.K.norm() < 2
    ((40,), True)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 8:
        raise ValueError(f"n must be an integer >= 8, got {n!r}")
    if not noise_level >= 0:
        raise ValueError(f"noise_level must be >= 0, got {noise_level!r}")
    levels = np.array([0.0, 1.0, 0.4, 0.8])
    y = levels[np.minimum(np.arange(n) * len(levels) // n, len(levels) - 1)]
    x = y + noise_level * np.random.default_rng(seed).standard_normal(n)
    K = operators.FiniteDifference(n)
    if dense:
        K = operators.Matrix(K.apply(np.eye(n)).reshape(n, -1).T)   # columns K e_i
    F, G = prox.L1(weight), prox.SquaredL2()
    tau, sigma = default_steps(K)
    x_star = solve(K, F, G, x, tau=tau, sigma=sigma, tol=1e-15, max_iter=200000).x_star
    return DenoisingProblem(K, F, G, x, y, x_star, f"1-D TV denoising (n = {n})")


# ---------------------------------------------------------------------------------------
# reusable pieces for every dashboard
# ---------------------------------------------------------------------------------------

def _step_sliders(K, L, tau, sigma, theta, L_max):
    """Sliders for L (int), tau and sigma (log scale, up to 4/||K||) and theta in [0, 1]."""
    step_max = math.log10(4.0 / K.norm())
    # continuous_update=False: redraw when the slider is released, so a drag never queues
    # dozens of renders and freezes the kernel
    common = {"continuous_update": False, "style": {"description_width": "3em"},
              "layout": widgets.Layout(width="95%")}
    return {
        "L": widgets.IntSlider(value=L, min=1, max=L_max, description="L", **common),
        "tau": widgets.FloatLogSlider(value=tau, base=10, min=step_max - 3, max=step_max, step=0.01,
                                      readout_format=".3g", description="τ", **common),
        "sigma": widgets.FloatLogSlider(value=sigma, base=10, min=step_max - 3, max=step_max, step=0.01,
                                        readout_format=".3g", description="σ", **common),
        "theta": widgets.FloatSlider(value=theta, min=0.0, max=1.0, step=0.05, description="θ",
                                     readout_format=".2f", **common),
    }


def _step_condition(K, tau, sigma):
    """(ok, html): the value of tau*sigma*||K||^2 and a red warning when it is >= 1."""
    product = tau * sigma * K.norm() ** 2
    if product < 1:
        return True, (f"<span style='color:green'>τσ‖K‖² = {product:.3f} &lt; 1: "
                      "step-size condition holds</span>")
    return False, (f"<b style='color:#c00000'>⚠ τσ‖K‖² = {product:.3f} ≥ 1: step-size condition "
                   "violated, cpteach refuses to run (the iteration may diverge). "
                   "Lower τ or σ; the curves show the last valid choice.</b>")


class Dashboard(widgets.VBox):
    """An ipywidgets VBox: sliders, a status line and a live matplotlib figure.

    Attributes
    ----------
    sliders : dict name -> ipywidgets slider
    figure : matplotlib.figure.Figure, whose artists ``redraw`` updates in place
    status : ipywidgets.HTML, the step-size condition or a warning
    image : ipywidgets.Image, the rendered figure

    ``update()`` reads the sliders, calls ``redraw(**values)`` (which returns the status
    HTML) and re-renders the figure; it runs on every slider change. The status line ends
    with an update counter and the time the update took; the CSS classes
    ``cpteach-dashboard`` and ``cpteach-status`` let the browser tests find both.
    """

    def __init__(self, sliders, figure, redraw, dpi=72):
        self.sliders = dict(sliders)
        self.figure = figure
        self._redraw = redraw
        self._dpi = dpi
        self.status = widgets.HTML()
        self.status.add_class("cpteach-status")
        self.image = widgets.Image(format="png")
        self.updates = 0
        super().__init__([widgets.VBox(list(self.sliders.values())), self.status, self.image])
        self.add_class("cpteach-dashboard")
        figure.draw_without_rendering()
        figure.set_layout_engine("none")   # keep the layout of the first draw: faster redraws
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change):
        self.update()

    def values(self):
        """The current slider values as a dict name -> value."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def update(self, render=True):
        """Recompute for the current slider values, update the artists, render the figure."""
        start = time.perf_counter()
        message = self._redraw(**self.values())
        if render:
            self.image.value = figure_png(self.figure, dpi=self._dpi)
        self.updates += 1
        elapsed = 1e3 * (time.perf_counter() - start)
        self.status.value = (f"{message} <span style='color:gray; font-size:small'>"
                             f"(update {self.updates}, {elapsed:.0f} ms)</span>")


# ---------------------------------------------------------------------------------------
# notebook 01: the Chambolle-Pock iteration
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CPRun:
    """One run of L CP steps for the dashboard: x^L, the gap (2.7) and ||x^l - x*||.

    ``ok`` is False (and the arrays are None) when the step sizes break
    tau*sigma*||K||^2 < 1; ``message`` then holds the library's explanation.
    """

    ok: bool
    message: str
    x_L: np.ndarray | None = None
    gap: np.ndarray | None = None
    error: np.ndarray | None = None


def cp_run(problem, L, tau, sigma, theta):
    """Run (2.0)-(2.5) for L steps on ``problem``; return x^L, gap^l and ||x^l - x*|| (l = 0..L).

    Invalid step sizes are not an error here: the result has ``ok=False`` and the
    message of :func:`cpteach.chambolle_pock.check_steps`.

    Examples
    --------
    >>> run = cp_run(tv_denoising_1d(n=20), L=5, tau=0.4, sigma=0.4, theta=1.0)
    >>> run.ok, run.gap.shape, run.error.shape
    (True, (6,), (6,))
    """
    try:
        check_steps(problem.K, tau, sigma, theta)
    except ValueError as err:
        return CPRun(False, str(err))
    trace = chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma,
                           theta=theta, L=L)
    error = np.array([np.linalg.norm(trace.x(l) - problem.x_star) for l in range(L + 1)])
    return CPRun(True, "", trace.x_L, trace.gap(), error)


def _render_cp(lines, curves, run, L):
    """Write a :class:`CPRun` into the signal lines and the convergence curves."""
    if not run.ok:
        return
    update_lines(lines, {"iterate $x^L$": run.x_L})
    lines["iterate $x^L$"].axes.set_title(rf"Iterate $x^L$ after $L$ = {L} steps")
    update_lines(curves, {"primal-dual gap (2.7)": run.gap, r"$\|x^l - x^*\|$": run.error})


def cp_dashboard(problem=None, L=50, tau=None, sigma=None, theta=1.0, L_max=500):
    """Dashboard for notebook 01: the iterate x^L and the convergence of CP, live.

    Sliders L, tau, sigma, theta rerun (2.0)-(2.5); the left panel shows x^L next to
    the ground truth y and the noisy data x, the right panel the primal-dual gap (2.7)
    and ||x^l - x*|| on a log scale. The status line shows tau*sigma*||K||^2 and warns
    when it is >= 1.

    Parameters
    ----------
    problem : DenoisingProblem or None (default: ``tv_denoising_1d(dense=True)``, whose
        dense K is faster than the FiniteDifference stencil at this size)
    L : int, initial number of iterations (slider 1..L_max)
    tau, sigma : float or None, initial steps (default: ``default_steps(problem.K)``)
    theta : float in [0, 1]
    L_max : int, the largest L on the slider

    Returns
    -------
    Dashboard
        with ``.sliders`` (L, tau, sigma, theta), ``.figure`` and ``.update()``.

    Examples
    --------
    >>> board = cp_dashboard(L=10)
    >>> sorted(board.sliders)
    ['L', 'sigma', 'tau', 'theta']
    """
    problem = tv_denoising_1d(dense=True) if problem is None else problem
    default_tau, default_sigma = default_steps(problem.K)
    tau = default_tau if tau is None else tau
    sigma = default_sigma if sigma is None else sigma
    sliders = _step_sliders(problem.K, L, tau, sigma, theta, L_max)
    fig, (ax_signal, ax_conv) = new_figure(2, width=4.6, height=3.2)
    first = cp_run(problem, 1, *default_steps(problem.K), 1.0)
    lines = plot_signals(ax_signal, {"noisy data $x$": problem.x, "ground truth $y$": problem.y,
                                     "solution $x^*$": problem.x_star, "iterate $x^L$": first.x_L},
                         title=r"Iterate $x^L$", xlabel=r"index $i$", ylabel="signal value")
    lines["solution $x^*$"].set_linestyle(":")
    curves = plot_convergence(ax_conv, {"primal-dual gap (2.7)": first.gap, r"$\|x^l - x^*\|$": first.error},
                              title="Convergence of Chambolle-Pock", xlabel=r"iteration $l$",
                              ylabel="gap / distance (log scale)")

    def redraw(L, tau, sigma, theta):
        _, status = _step_condition(problem.K, tau, sigma)
        run = cp_run(problem, L, tau, sigma, theta)
        _render_cp(lines, curves, run, L)
        return status

    return Dashboard(sliders, fig, redraw)


# ---------------------------------------------------------------------------------------
# notebook 02: backpropagation through the unrolled iteration
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BackpropRun:
    """The adjoints delta_P^l, delta_D^l (rows l = 1..L) and grad_K (3.4) of one unrolled run.

    ``ok`` is False (arrays None) when tau*sigma*||K||^2 >= 1; see ``message``.
    """

    ok: bool
    message: str
    delta_P: np.ndarray | None = None
    delta_D: np.ndarray | None = None
    grad_K: np.ndarray | None = None
    loss: float | None = None


def backprop_run(problem, L, tau, sigma, theta):
    """Run L CP steps and the backward pass (3.0)-(3.4) on ``problem``.

    ``delta_D`` is flattened to shape (L, k). The problem's K should be a
    :class:`cpteach.operators.Matrix` (``tv_denoising_1d(dense=True)``) for a full grad_K.

    Examples
    --------
    >>> run = backprop_run(tv_denoising_1d(n=12, dense=True), L=4, tau=0.4, sigma=0.4, theta=1.0)
    >>> run.delta_P.shape, run.delta_D.shape, run.grad_K.shape
    ((4, 12), (4, 12), (12, 12))
    """
    try:
        check_steps(problem.K, tau, sigma, theta)
    except ValueError as err:
        return BackpropRun(False, str(err))
    trace = chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma,
                           theta=theta, L=L)
    res = backprop(trace, problem.y)
    return BackpropRun(True, "", res.delta_P.reshape(L, -1), res.delta_D.reshape(L, -1),
                       res.grad_K, res.loss)


def _render_backprop(images, norm_lines, run, L):
    """Write a :class:`BackpropRun` into the three heat maps and the norm curves."""
    if not run.ok:
        return
    n, k = run.delta_P.shape[1], run.delta_D.shape[1]
    update_heatmap(images["delta_P"], run.delta_P, extent=(-0.5, n - 0.5, 0.5, L + 0.5))
    update_heatmap(images["delta_D"], run.delta_D, extent=(-0.5, k - 0.5, 0.5, L + 0.5))
    update_heatmap(images["grad_K"], run.grad_K)
    images["grad_K"].axes.set_title(rf"$\nabla_K \ell$ (3.4), loss = {run.loss:.3g}")
    update_lines(norm_lines, {r"$\|\delta_P^l\|$": np.linalg.norm(run.delta_P, axis=1),
                              r"$\|\delta_D^l\|$": np.linalg.norm(run.delta_D, axis=1)}, start=1)


def backprop_dashboard(problem=None, L=30, tau=None, sigma=None, theta=1.0, L_max=300):
    """Dashboard for notebook 02: the backward recursion (3.0)-(3.3) and grad_K (3.4), live.

    Sliders L, tau, sigma, theta rerun the forward and backward pass; heat maps show
    delta_P^l and delta_D^l (rows l = 1..L, columns the entries) and grad_K; a fourth
    panel shows ||delta_P^l||, ||delta_D^l|| over l on a log scale. Step sizes with
    tau*sigma*||K||^2 >= 1 show a warning.

    Parameters
    ----------
    problem : DenoisingProblem or None (default: ``tv_denoising_1d(n=40, dense=True)``)
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
    default_tau, default_sigma = default_steps(problem.K)
    tau = default_tau if tau is None else tau
    sigma = default_sigma if sigma is None else sigma
    sliders = _step_sliders(problem.K, L, tau, sigma, theta, L_max)
    fig, axes = new_figure(2, nrows=2, width=4.4, height=3.0)
    first = backprop_run(problem, 1, default_tau, default_sigma, 1.0)
    images = {
        "delta_P": plot_heatmap(axes[0], first.delta_P, r"$\delta_P^l$ (3.2)", r"entry $i$ of $z_P$",
                                r"iteration $l$", colorbar_label="value (signed log scale)", decades=8),
        "delta_D": plot_heatmap(axes[1], first.delta_D, r"$\delta_D^l$ (3.3)", r"entry $j$ of $z_D$",
                                r"iteration $l$", colorbar_label="value (signed log scale)", decades=8),
        "grad_K": plot_heatmap(axes[2], first.grad_K, r"$\nabla_K \ell$ (3.4)", "column of K",
                               "row of K", colorbar_label="∂ℓ/∂K[row, column]"),
    }
    norm_lines = plot_convergence(axes[3], {r"$\|\delta_P^l\|$": np.linalg.norm(first.delta_P, axis=1),
                                            r"$\|\delta_D^l\|$": np.linalg.norm(first.delta_D, axis=1)},
                                  title="Size of the adjoints", xlabel=r"iteration $l$",
                                  ylabel="norm (log scale)", start=1)

    def redraw(L, tau, sigma, theta):
        _, status = _step_condition(problem.K, tau, sigma)
        run = backprop_run(problem, L, tau, sigma, theta)
        _render_backprop(images, norm_lines, run, L)
        return status

    return Dashboard(sliders, fig, redraw)
