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
import warnings
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from . import operators, prox
from .backprop import backprop
from .chambolle_pock import chambolle_pock, check_steps, default_steps, solve
from .asymptotics import masks, projection_limit
from .fixed_point import cosine_and_error, fixed_point_gradient, implicit_gradient
from .problems import PRESENTER_PROBLEMS, Problem, ball_problem, tv_denoising_1d, tv_l1_denoising_1d
from .plotting import (figure_png, new_figure, plot_convergence, plot_heatmap, plot_signals,
                       update_heatmap, update_lines)

__all__ = ["Problem", "tv_denoising_1d", "CPRun", "cp_run", "cp_dashboard",
           "BackpropRun", "backprop_run", "backprop_dashboard", "Dashboard",
           "tv_l1_denoising_1d", "AsymptoticsRun", "asymptotics_run", "asymptotics_dashboard",
           "ball_problem", "FixedPointReference", "fixed_point_reference", "FixedPointRun",
           "fixed_point_run", "fixed_point_dashboard",
           "DenoisingRun", "denoising_run", "denoising_dashboard",
           "PRESENTER_PROBLEMS", "presenter"]


# ---------------------------------------------------------------------------------------
# reusable pieces for every dashboard
# ---------------------------------------------------------------------------------------

def _step_sliders(K, L, tau, sigma, theta, L_max):
    """Sliders for L (int), tau and sigma (log scale, up to 4/||K||) and theta in [0, 1].

    ``tau`` or ``sigma`` None starts that slider at :func:`cpteach.default_steps`.
    """
    default_tau, default_sigma = default_steps(K)
    tau = default_tau if tau is None else tau
    sigma = default_sigma if sigma is None else sigma
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


def _unrolled(problem, L, tau, sigma, theta):
    """(trace of L CP steps, "") or, for invalid steps, (None, the library's message): dashboards warn, never raise."""
    try:
        check_steps(problem.K, tau, sigma, theta)
    except ValueError as err:
        return None, str(err)
    trace = chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma, theta=theta, L=L)
    return trace, ""


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

    def set_dpi(self, dpi):
        """Render the figure at ``dpi`` from now on (the presenter view uses large figures)."""
        self._dpi = dpi
        self.update()

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
    trace, message = _unrolled(problem, L, tau, sigma, theta)
    if trace is None:
        return CPRun(False, message)
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
    problem : Problem or None (default: ``tv_denoising_1d(dense=True)``, whose
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
    trace, message = _unrolled(problem, L, tau, sigma, theta)
    if trace is None:
        return BackpropRun(False, message)
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
    default_tau, default_sigma = default_steps(problem.K)
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


# ---------------------------------------------------------------------------------------
# notebook 03: asymptotics of the backpropagated gradients
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AsymptoticsRun:
    """Masks, kernel residuals per l and ||grad_K(L')|| of one unrolled run of length L.

    ``changes[l - 1]``: mask entries changing from l - 1 to l, ``l_o`` as in
    :func:`cpteach.asymptotics.masks`. Residuals (arrays over l = 1..L, relative as in
    :class:`cpteach.asymptotics.KernelResiduals`): ``DK_delta_P``, ``K_delta_P``,
    ``PKt_delta_D`` and ``delta_D_norm``. ``Ls``, ``grad_norms``: ||grad_K|| of the first L'
    iterations for L' in ``Ls``; ``predicted`` is the line ||grad_K(L)|| + (L' - L) ||s|| with s the
    slope (4.6) from the masks of iteration L and e = x^L - y (zero slope: summable).
    ``ok`` is False (arrays None) when tau*sigma*||K||^2 >= 1.
    """

    ok: bool
    message: str
    changes: np.ndarray | None = None
    l_o: int | None = None
    DK_delta_P: np.ndarray | None = None
    K_delta_P: np.ndarray | None = None
    PKt_delta_D: np.ndarray | None = None
    delta_D_norm: np.ndarray | None = None
    Ls: np.ndarray | None = None
    grad_norms: np.ndarray | None = None
    predicted: np.ndarray | None = None
    slope_norm: float | None = None


def _row_norms(a, rows):
    return np.sqrt(np.sum(np.reshape(a, (rows, -1)) ** 2, axis=1))


def asymptotics_run(problem, L, tau, sigma, theta, points=4):
    """Run L CP steps and the backward pass; return the masks (4.1), the residuals (4.2) for
    every l and ||grad_K(L')|| for ``points`` values L' <= L with the line of slope (4.6).

    In one run of length L the residuals of delta_P^l, delta_D^l are read at every l; once the
    masks are fixed (l >= l_o) the backward map does not depend on l, so moving l down from L
    shows what fixing l and letting L grow shows in :func:`cpteach.asymptotics.kernel_residuals`.
    F* and G need 0/1 prox derivatives (e.g. :func:`tv_l1_denoising_1d`).

    Examples
    --------
    >>> run = asymptotics_run(tv_l1_denoising_1d(n=12), L=40, tau=0.5, sigma=0.5, theta=1.0)
    >>> run.ok, run.DK_delta_P.shape, run.grad_norms.shape
    (True, (40,), (4,))
    """
    trace, message = _unrolled(problem, L, tau, sigma, theta)
    if trace is None:
        return AsymptoticsRun(False, message)
    K, y = problem.K, problem.y
    m = masks(trace)
    res = backprop(trace, y)
    e = trace.x_L - y
    e_norm = max(float(np.linalg.norm(e)), 1e-300)
    norm_K = K.norm()
    K_dP = K.apply(res.delta_P)
    Kt_dD = K.adjoint(res.delta_D)
    dP_norm = np.maximum(_row_norms(res.delta_P, L), 1e-300)
    DK_dP = _row_norms(m.D * K_dP, L) / (norm_K * dP_norm)                        # (4.2), masked
    K_dP = _row_norms(K_dP, L) / (norm_K * dP_norm)                                 # unmasked
    PKt_dD = _row_norms(m.P * Kt_dD, L) / (norm_K * e_norm)                         # (4.2), masked
    dD_norm = _row_norms(res.delta_D, L) / e_norm                                   # (4.3): -> 0
    Ls = np.unique(np.linspace(1, L, min(points, L)).round().astype(int))
    grads = [backprop(trace.prefix(int(l)), y).grad_K for l in Ls[:-1]] + [res.grad_K]
    delta_P_limit = projection_limit(K, m.P[-1], m.D[-1], e)                        # (4.3)
    slope = -tau * K.param_grad(trace.xi(L), delta_P_limit)                          # (4.6)
    slope_norm = float(np.linalg.norm(slope))
    predicted = np.linalg.norm(res.grad_K) + (Ls - L) * slope_norm                  # through the last point
    return AsymptoticsRun(True, "", m.changes, m.l_o, DK_dP, K_dP, PKt_dD, dD_norm, Ls,
                          np.array([np.linalg.norm(g) for g in grads]), predicted, slope_norm)


_RESIDUAL_LABELS = (r"$\|D K\delta_P^l\|$ (masked, 4.2)", r"$\|K\delta_P^l\|$ (unmasked)",
                    r"$\|P K^\top\delta_D^l\|$ (masked, 4.2)", r"$\|\delta_D^l\|$ (4.3)")


def _render_asymptotics(artists, run, L):
    """Write an :class:`AsymptoticsRun` into the mask, residual and gradient panels."""
    if not run.ok:
        return
    l = np.arange(1, L + 1)
    artists["changes"].set_data(l, run.changes)
    artists["l_o"].set_xdata([run.l_o, run.l_o])
    artists["changes"].axes.set_title(rf"Mask changes per iteration, $l_o$ = {run.l_o}")
    update_lines(artists["residuals"], dict(zip(_RESIDUAL_LABELS, (run.DK_delta_P, run.K_delta_P,
                                                                   run.PKt_delta_D, run.delta_D_norm))), start=1)
    artists["grad"].set_data(run.Ls, run.grad_norms)
    artists["predicted"].set_data(run.Ls, run.predicted)
    artists["grad"].axes.set_title(rf"$\|\nabla_K\ell\|$ up to $L$; slope (4.6): {run.slope_norm:.3g} per step")
    for key in ("changes", "grad"):
        artists[key].axes.relim()
        artists[key].axes.autoscale_view()


def asymptotics_dashboard(problem=None, L=200, tau=None, sigma=None, theta=1.0, L_max=1000):
    """Dashboard for notebook 03: masks, kernel residuals (4.2) and the growth of grad_K, live.

    Sliders L, tau, sigma, theta rerun the forward and backward pass. Left: how many mask
    entries (4.1) change at each l, and l_o. Middle: the relative residuals of delta_P^l,
    delta_D^l over l (masked ||D K delta_P^l||, ||P K^T delta_D^l||, unmasked ||K delta_P^l||
    and ||delta_D^l||, log scale); far from l = L the masked ones vanish, the unmasked one does
    not. Right: ||grad_K|| of the first L' <= L iterations with the line of slope (4.6)
    (TV-L1: linear growth; a summable problem gives slope 0). Step sizes with
    tau*sigma*||K||^2 >= 1 show a warning.

    Parameters
    ----------
    problem : Problem with 0/1 prox derivatives, or None (default:
        ``tv_l1_denoising_1d(n=48)``)
    L, tau, sigma, theta, L_max : as in :func:`cp_dashboard`

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> board = asymptotics_dashboard(problem=tv_l1_denoising_1d(n=12), L=20)
    >>> "masked, 4.2" in board.figure.axes[1].get_lines()[0].get_label()
    True
    """
    problem = tv_l1_denoising_1d() if problem is None else problem
    default_tau, default_sigma = default_steps(problem.K)
    sliders = _step_sliders(problem.K, L, tau, sigma, theta, L_max)
    fig, (ax_masks, ax_res, ax_grad) = new_figure(3, width=4.4, height=3.4)
    first = asymptotics_run(problem, 2, default_tau, default_sigma, 1.0)
    (changes,) = ax_masks.plot(np.arange(1, 3), first.changes, drawstyle="steps-mid", label="changed entries")
    l_o = ax_masks.axvline(first.l_o, color="C3", linestyle="--", label="$l_o$")
    ax_masks.set(xlabel=r"iteration $l$", ylabel="entries of $(P^l, D^l)$ that changed",
                 title="Mask changes per iteration")
    ax_masks.legend(loc="upper right", fontsize="small")
    residuals = plot_convergence(ax_res, dict(zip(_RESIDUAL_LABELS, (first.DK_delta_P, first.K_delta_P,
                                                                     first.PKt_delta_D, first.delta_D_norm))),
                                 title=r"Residuals of $\delta^l$ in a run of length $L$", xlabel=r"iteration $l$",
                                 ylabel="relative residual (log scale)", start=1)
    ax_res.legend(loc="lower right", fontsize="x-small")
    (grad,) = ax_grad.plot(first.Ls, first.grad_norms, "o-", label=r"unrolled $\|\nabla_K\ell(L')\|$ (3.4)")
    (predicted,) = ax_grad.plot(first.Ls, first.predicted, "k--", label="line with slope (4.6)")
    ax_grad.set(xlabel=r"number of iterations $L'$", ylabel=r"$\|\nabla_K\ell\|$", title=r"$\|\nabla_K\ell\|$ up to $L$")
    ax_grad.legend(loc="upper left", fontsize="small")
    artists = {"changes": changes, "l_o": l_o, "residuals": residuals, "grad": grad, "predicted": predicted}

    def redraw(L, tau, sigma, theta):
        ok, status = _step_condition(problem.K, tau, sigma)
        run = asymptotics_run(problem, L, tau, sigma, theta)
        _render_asymptotics(artists, run, L)
        if ok and run.ok:
            status += (f"; l_o = {run.l_o}, slope (4.6) = {run.slope_norm:.3g} per step "
                       f"({'summable' if run.slope_norm == 0 else 'not summable: grad_K grows with L'})")
        return status

    return Dashboard(sliders, fig, redraw)


# ---------------------------------------------------------------------------------------
# notebook 04: the fixed-point gradient
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FixedPointRun:
    """Unrolled (for L' in ``Ls``), one-step (5.3) and implicit (5.5) gradients of one setting.

    ``cosine[i]`` and ``rel_error[i]`` compare the unrolled gradient of L' = ``Ls[i]`` with the
    implicit one; ``one_step_cosine``, ``one_step_rel_error`` the one-step gradient. The
    gradients themselves are ``unrolled`` (at L), ``one_step`` and ``implicit``. ``warning``
    holds a solver warning (empty if none). ``ok`` is False (arrays None) when
    tau*sigma*||K||^2 >= 1.
    """

    ok: bool
    message: str
    Ls: np.ndarray | None = None
    cosine: np.ndarray | None = None
    rel_error: np.ndarray | None = None
    one_step_cosine: float | None = None
    one_step_rel_error: float | None = None
    unrolled: np.ndarray | None = None
    one_step: np.ndarray | None = None
    implicit: np.ndarray | None = None
    warning: str = ""


@dataclass(frozen=True)
class FixedPointReference:
    """The L-independent part of :class:`FixedPointRun`: the one-step gradient (5.3), the implicit
    gradient (5.5) and a solver warning (empty if none) for one choice of tau, sigma, theta."""

    one_step: np.ndarray
    implicit: np.ndarray
    warning: str


def fixed_point_reference(problem, tau, sigma, theta, tol=1e-10, max_iter=20000):
    """Solve once with :func:`cpteach.chambolle_pock.solve` and return the one-step (5.3) and implicit
    (5.5) gradients from that solution; solver warnings are returned as text, not raised.

    Examples
    --------
    >>> ref = fixed_point_reference(ball_problem(k=6, n=4), tau=0.3, sigma=0.3, theta=1.0)
    >>> ref.implicit.shape, ref.warning
    ((6, 4), '')
    """
    K, F, G, x, y = problem.K, problem.F, problem.G, problem.x, problem.y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter)
        implicit = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=tol, solution=sol)  # (5.5)
    one_step = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, solution=sol)      # (5.3)
    warning = " ".join(str(w.message).split(";")[0] for w in caught)
    return FixedPointReference(one_step.grad_K, implicit.grad_K, warning)


def fixed_point_run(problem, L, tau, sigma, theta, points=6, reference=None):
    """Unrolled gradients for ``points`` values L' <= L (log-spaced) against the implicit gradient
    (5.5), and the one-step gradient (5.1)-(5.3), with cosines and relative errors.

    ``reference`` is a :class:`FixedPointReference` for the same tau, sigma, theta (computed by
    :func:`fixed_point_reference` when None); the dashboard reuses it while only L changes.

    Examples
    --------
    >>> run = fixed_point_run(ball_problem(k=6, n=4), L=50, tau=0.3, sigma=0.3, theta=1.0)
    >>> run.ok, run.cosine.shape == run.Ls.shape, bool(run.cosine[-1] > 0.99)
    (True, True, True)
    """
    trace, message = _unrolled(problem, L, tau, sigma, theta)
    if trace is None:
        return FixedPointRun(False, message)
    y = problem.y
    reference = fixed_point_reference(problem, tau, sigma, theta) if reference is None else reference
    Ls = np.unique(np.geomspace(1, L, min(points, L)).round().astype(int))
    grads = [backprop(trace.prefix(int(l)), y).grad_K for l in Ls]                                   # (3.4)
    pairs = np.array([cosine_and_error(g, reference.implicit) for g in grads])
    one_cos, one_err = cosine_and_error(reference.one_step, reference.implicit)
    return FixedPointRun(True, "", Ls, pairs[:, 0], pairs[:, 1], one_cos, one_err, grads[-1], reference.one_step,
                         reference.implicit, reference.warning)


_GRADIENT_KEYS = ("unrolled", "one_step", "implicit")


def _render_fixed_point(artists, run, L):
    """Write a :class:`FixedPointRun` into the cosine, error, bar and heat-map panels."""
    if not run.ok:
        return
    artists["cosine"].set_data(run.Ls, run.cosine)
    artists["one_step_cosine"].set_ydata([run.one_step_cosine] * 2)
    artists["error"].set_data(run.Ls, np.maximum(run.rel_error, 1e-16))
    artists["one_step_error"].set_ydata([max(run.one_step_rel_error, 1e-16)] * 2)
    for bar, value in zip(artists["bars"], (run.cosine[-1], run.one_step_cosine, 1.0)):
        bar.set_height(value)
    artists["bars"][0].axes.set_title(rf"Cosine to the implicit gradient at $L$ = {L}")
    for key in _GRADIENT_KEYS:
        update_heatmap(artists[key], getattr(run, key))
    for key in ("cosine", "error"):
        ax = artists[key].axes
        ax.set_xlim(0.8, 1.25 * max(L, 2))
        ax.relim()
        ax.autoscale_view(scalex=False)


def fixed_point_dashboard(problem=None, L=100, tau=None, sigma=None, theta=1.0, L_max=1000):
    """Dashboard for notebook 04: unrolled, one-step and implicit gradients, live.

    Sliders L, tau, sigma, theta. Top row: cosine and relative error of the unrolled gradient
    (3.4) of L' <= L iterations against the implicit gradient (5.5) (log L' axis), the
    one-step gradient (5.3) as a horizontal line, and a bar chart of the cosines at L. Bottom
    row: the three gradients as heat maps (rows and columns of K). The implicit gradient is the
    derivative of the loss at the solution, so it does not move with tau, sigma, theta; the
    unrolled and the one-step gradients do. Step sizes with tau*sigma*||K||^2 >= 1 show a warning.

    Parameters
    ----------
    problem : Problem with a Matrix K, or None (default: ``ball_problem()``)
    L, tau, sigma, theta, L_max : as in :func:`cp_dashboard`

    Returns
    -------
    Dashboard

    Examples
    --------
    >>> board = fixed_point_dashboard(problem=ball_problem(k=6, n=4), L=10)
    >>> sorted(board.sliders)
    ['L', 'sigma', 'tau', 'theta']
    """
    problem = ball_problem() if problem is None else problem
    default_tau, default_sigma = default_steps(problem.K)
    sliders = _step_sliders(problem.K, L, tau, sigma, theta, L_max)
    fig, axes = new_figure(3, nrows=2, width=4.2, height=3.1)
    cache = {"steps": (default_tau, default_sigma, 1.0),    # the last FixedPointReference: a change
             "reference": fixed_point_reference(problem, default_tau, default_sigma, 1.0)}   # of L alone reuses it
    first = fixed_point_run(problem, 2, default_tau, default_sigma, 1.0, reference=cache["reference"])
    ax_cos, ax_err, ax_bar = axes[:3]
    (cosine,) = ax_cos.semilogx(first.Ls, first.cosine, "o-", label="unrolled (3.4)")
    one_step_cosine = ax_cos.axhline(first.one_step_cosine, color="C1", linestyle="--", label="one-step (5.3)")
    ax_cos.set(xlabel=r"number of iterations $L'$", ylabel="cosine to the implicit gradient",
               title="Cosine to the implicit gradient (5.5)")
    ax_cos.legend(loc="lower right", fontsize="small")
    (error,) = ax_err.loglog(first.Ls, first.rel_error, "o-", label="unrolled (3.4)")
    one_step_error = ax_err.axhline(first.one_step_rel_error, color="C1", linestyle="--", label="one-step (5.3)")
    ax_err.set(xlabel=r"number of iterations $L'$", ylabel="relative error (log scale)",
               title="Relative error to the implicit gradient")
    ax_err.legend(loc="lower left", fontsize="small")
    bars = ax_bar.bar(["unrolled (L)", "one-step", "implicit"], [first.cosine[-1], first.one_step_cosine, 1.0],
                      color=["C0", "C1", "C2"])
    ax_bar.set(ylim=(-1.05, 1.05), ylabel="cosine", title="Cosine to the implicit gradient at $L$")
    ax_bar.axhline(0, color="k", linewidth=0.5)
    titles = {"unrolled": r"unrolled $\nabla_K\ell$ at $L$ (3.4)", "one_step": r"one-step $\nabla_K$ (5.3)",
              "implicit": r"implicit $\nabla_K$ (5.5)"}
    artists = {"cosine": cosine, "one_step_cosine": one_step_cosine, "error": error,
               "one_step_error": one_step_error, "bars": bars}
    for ax, key in zip(axes[3:], _GRADIENT_KEYS):
        artists[key] = plot_heatmap(ax, getattr(first, key), titles[key], "column of K", "row of K",
                                    colorbar_label="∂ℓ/∂K")

    def redraw(L, tau, sigma, theta):
        ok, status = _step_condition(problem.K, tau, sigma)
        if ok and cache.get("steps") != (tau, sigma, theta):
            cache.update(steps=(tau, sigma, theta), reference=fixed_point_reference(problem, tau, sigma, theta))
        run = fixed_point_run(problem, L, tau, sigma, theta, reference=cache.get("reference"))
        _render_fixed_point(artists, run, L)
        if ok and run.ok:
            status += (f"; cosine to implicit: unrolled(L) {run.cosine[-1]:.4f}, one-step "
                       f"{run.one_step_cosine:.4f}")
            if run.warning:
                status += f" <b style='color:#c00000'>⚠ {run.warning}</b>"
        return status

    return Dashboard(sliders, fig, redraw)


# ---------------------------------------------------------------------------------------
# notebook 05: the numerical example, denoising with learned filters
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DenoisingRun:
    """Noisy image and the TV and filter-bank solutions of (6.1), with their PSNRs (dB)."""

    x: np.ndarray
    tv: np.ndarray
    learned: np.ndarray
    psnr_x: float
    psnr_tv: float
    psnr_learned: float


def denoising_run(y, filters, noise_level, s_ratio=0.95, L=60, seed=2):
    """Add noise of ``noise_level`` to ``y`` (seeded) and solve (6.1) with s = s_ratio * noise_level
    for TV and for the filter bank ``filters`` (L iterations at most each)."""
    from . import images
    from .learning import denoise

    x = images.add_noise(y, noise_level, seed=seed)
    s = s_ratio * noise_level
    tv = denoise(x, operators.FiniteDifference(y.shape), s, L=L).y_hat
    learned = denoise(x, filters, s, L=L).y_hat
    return DenoisingRun(x, tv, learned, images.psnr(y, x), images.psnr(y, tv), images.psnr(y, learned))


def _render_denoising(shown, axes, run):
    for ax, key, label, psnr in zip(axes[1:], ("x", "tv", "learned"), ("noisy x", "TV", "learned filters"),
                                    (run.psnr_x, run.psnr_tv, run.psnr_learned)):
        shown[key].set_data(getattr(run, key))
        ax.set_title(f"{label}: {psnr:.2f} dB")


def denoising_dashboard(filters=None, size=64, s_ratio=0.95, L=60):
    """Dashboard for notebook 05: pick a held-out image and a noise level, see TV and learned filters.

    The dropdown picks one of ``images.TEST_IMAGES`` (central ``size`` x ``size`` crop), the
    slider the noise level (standard deviation); (6.1) is solved with s = s_ratio * noise level
    for K = finite differences (TV) and for the filter bank. Step sizes come from
    ``learning.step_sizes`` (tau*sigma*||K||^2 = 0.98 < 1 always).

    Parameters
    ----------
    filters : array (c, k1, k2) or None (default: ``learning.pretrained_filters()``)
    size : int, the crop size (64 keeps an update below a second)
    s_ratio : float, s / noise level (the shipped run's ratio by default)
    L : int, maximal iterations per solve

    Returns
    -------
    Dashboard
        with ``.sliders`` (image, noise_level), ``.figure`` and ``.update()``.

    Examples
    --------
    >>> board = denoising_dashboard(size=32, L=5)
    >>> sorted(board.sliders)
    ['image', 'noise_level']
    """
    from . import images
    from .learning import pretrained_filters
    from .plotting import plot_images

    filters = pretrained_filters() if filters is None else filters
    crops = dict(zip(images.TEST_IMAGES, images.held_out_images(size)))
    sliders = {"image": widgets.Dropdown(options=list(images.TEST_IMAGES), value=images.TEST_IMAGES[0],
                                         description="image"),
               "noise_level": widgets.FloatSlider(value=0.1, min=0.02, max=0.2, step=0.01,
                                                  description="noise level", readout_format=".2f",
                                                  continuous_update=False)}
    fig, axes = new_figure(4, width=2.6, height=2.8)
    blank = np.zeros((size, size))
    shown = plot_images(axes, {"ground truth y": blank, "x": blank, "tv": blank, "learned": blank})
    shown = dict(zip(("y", "x", "tv", "learned"), shown.values()))

    def redraw(image, noise_level):
        y = crops[image]
        shown["y"].set_data(y)
        run = denoising_run(y, filters, noise_level, s_ratio, L)
        _render_denoising(shown, axes, run)
        return (f"s = {s_ratio * noise_level:.3f}; PSNR gain of the learned filters over TV: "
                f"{run.psnr_learned - run.psnr_tv:+.2f} dB")

    return Dashboard(sliders, fig, redraw)


# ---------------------------------------------------------------------------------------
# the presenter view (notebooks/presenter.ipynb, rendered with Voila)
# ---------------------------------------------------------------------------------------

_PRESENTER_TABS = (("Iteration (§2)", cp_dashboard),
                   ("Backprop (§3)", backprop_dashboard),
                   ("Fixed point (§5)", fixed_point_dashboard))


def presenter(problem=None, dpi=110):
    """The lecturer's view: a problem chooser and one tab per dashboard, large figures.

    Tabs: the Chambolle-Pock iteration (:func:`cp_dashboard`), the backpropagated gradients
    (:func:`backprop_dashboard`) and the unrolled / one-step / implicit gradients
    (:func:`fixed_point_dashboard`), each with sliders L, tau, sigma, theta. Choosing another
    problem in the dropdown rebuilds the three dashboards for it.

    Parameters
    ----------
    problem : str, a key of ``PRESENTER_PROBLEMS`` (default: the first)
    dpi : int, resolution of the rendered figures

    Returns
    -------
    ipywidgets.VBox with attributes ``chooser`` (Dropdown), ``tabs`` (Tab) and
    ``dashboards`` (the three current :class:`Dashboard` objects)
    """
    names = list(PRESENTER_PROBLEMS)
    problem = names[0] if problem is None else problem
    if problem not in PRESENTER_PROBLEMS:
        raise ValueError(f"unknown problem {problem!r}; choose one of {names}")
    chooser = widgets.Dropdown(options=names, value=problem, description="problem",
                               style={"description_width": "5em"}, layout=widgets.Layout(width="60%"))
    busy = widgets.HTML()
    tabs = widgets.Tab()
    box = widgets.VBox([widgets.HBox([chooser, busy]), tabs])
    box.chooser, box.tabs = chooser, tabs

    def build(name):
        busy.value = "<i>solving the new problem ...</i>"
        instance = PRESENTER_PROBLEMS[name]()
        box.dashboards = [builder(problem=instance) for _, builder in _PRESENTER_TABS]
        for board in box.dashboards:
            board.set_dpi(dpi)
        tabs.children = box.dashboards
        for i, (title, _) in enumerate(_PRESENTER_TABS):
            tabs.set_title(i, title)
        busy.value = ""

    chooser.observe(lambda change: build(change.new), names="value")
    build(problem)
    return box

