"""The dashboard of notebooks 03a and 03b: masks (4.1), kernel residuals (4.2) and the growth of grad_K (4.6), live."""
from __future__ import annotations

import html
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..asymptotics import IterationResiduals, iteration_residuals, predicted_slope, unsettled_entries
from ..backprop import backprop
from ..chambolle_pock import chambolle_pock
from ..plotting import decade_limits, legend_outside, new_figure, nice_ceil, plot_convergence
from ..problems import tv_l1_denoising_1d
from ._controls import model_text, step_condition_html, step_sliders
from ._dashboard import Dashboard, axis_length, envelope, trace_run
from ._background import CSS_DPI
from ._state import model_key

__all__ = ["AsymptoticsRun", "asymptotics_run", "AsymptoticsFrame", "asymptotics_frame", "asymptotics_render",
           "asymptotics_dashboard", "RESIDUAL_LABELS"]

RESIDUAL_LABELS = (r"$\|M_D K\delta_P^l\|$ (masked, 4.2)", r"$\|K\delta_P^l\|$ (unmasked)",
                   r"$\|M_P K^\top\delta_D^l\|$ (masked, 4.2)", r"$\|K^\top\delta_D^l\|$ (unmasked)")


@dataclass(frozen=True)
class AsymptoticsRun:
    """The analysis of one unrolled run of length L for the dashboard.

    ``residuals``: :class:`cpteach.asymptotics.IterationResiduals` (with the masks (4.1),
    their ``changes`` and ``l_o``); ``Ls``, ``grad_norms``: ||grad_K|| (3.4) of the first L'
    iterations for L' in ``Ls`` (the last is L); ``slope_norm``: ||s|| of the slope (4.6)
    predicted from iteration L (:func:`cpteach.asymptotics.predicted_slope`).
    """

    residuals: IterationResiduals
    Ls: np.ndarray
    grad_norms: np.ndarray
    slope_norm: float

    @property
    def predicted(self):
        """The line ||grad_K(L)|| + (L' - L) ||s|| through the last point, at L' in ``Ls``."""
        return self.grad_norms[-1] + (self.Ls - self.Ls[-1]) * self.slope_norm


def _analyse(trace, y, Ls, grad_norm):
    """:class:`AsymptoticsRun` of ``trace`` at the iteration counts ``Ls`` (last = trace.L); ``grad_norm(l)``
    returns ||grad_K|| (3.4) of the first l iterations (e.g. from a memo)."""
    res = backprop(trace, y)
    norms = [grad_norm(int(l)) for l in Ls[:-1]] + [float(np.linalg.norm(res.grad_K))]
    slope = float(np.linalg.norm(predicted_slope(trace, y)))                                  # (4.6)
    return AsymptoticsRun(iteration_residuals(trace, y, res), np.asarray(Ls), np.array(norms), slope)


def _grad_norm(trace, y, l):
    """||grad_K|| (3.4) of the first l iterations of ``trace``."""
    return float(np.linalg.norm(backprop(trace.prefix(l), y).grad_K))


def asymptotics_run(problem, L, tau, sigma, theta, points=4):
    """Run L CP steps and the backward pass; return the masks (4.1), the residuals (4.2) at every l
    and ||grad_K(L')|| for ``points`` values L' <= L with the slope (4.6).

    F* and G need 0/1 prox derivatives (e.g. :func:`cpteach.problems.tv_l1_denoising_1d`).
    Raises the library's ValueError for invalid steps.

    Examples
    --------
    >>> run = asymptotics_run(tv_l1_denoising_1d(n=12), L=40, tau=0.5, sigma=0.5, theta=1.0)
    >>> run.residuals.DK_delta_P.shape, run.grad_norms.shape
    ((40,), (4,))
    """
    trace = chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma, theta=theta, L=L)
    Ls = np.unique(np.linspace(1, L, min(points, L)).round().astype(int))
    return _analyse(trace, problem.y, Ls, partial(_grad_norm, trace, problem.y))


@dataclass(frozen=True)
class AsymptoticsFrame:
    """What :func:`asymptotics_dashboard` shows: the :class:`AsymptoticsRun` of the first L steps
    of a cached run, the panels' x-range ``length`` (:func:`axis_length` of L), the status line, the
    problem it shows (``model``: its name, F and G) and ``unsettled``: the entries in which the masks at l = L
    differ from the solution's (:func:`cpteach.asymptotics.unsettled_entries`; > 0: l_o > L)."""

    run: AsymptoticsRun
    length: int
    status: str
    model: str
    unsettled: int


def _grid_norm(problem, memo, full, tau, sigma, theta, l):
    """||grad_K|| (3.4) of the first l iterations of the run ``full`` of these steps, from ``memo``."""
    return memo(("grad_norm", *model_key(problem, tau, sigma, theta), l), _grad_norm, full, problem.y, l)


def asymptotics_frame(problem, L_max, grid, memo, L, tau, sigma, theta):
    """The :class:`AsymptoticsFrame` for the slider values; the forward run and ||grad_K(L')|| for L'
    in ``grid`` come from ``memo``."""
    status = step_condition_html(problem.K, tau, sigma, theta)
    full = trace_run(problem, memo, L, L_max, tau, sigma, theta)
    Ls = np.append(grid[grid < L], L)
    run = _analyse(full.prefix(L), problem.y, Ls, partial(_grid_norm, problem, memo, full, tau, sigma, theta))
    model = html.escape(model_text(problem))
    sol = problem.solution
    unsettled = unsettled_entries(run.residuals.masks, problem.K, problem.F, problem.G, problem.x, sol.x_star,
                                  sol.xi_star, tau=tau, sigma=sigma)      # the masks at l = L against the solution's
    return AsymptoticsFrame(run, axis_length(L, L_max), status, model, unsettled)


def _prepare(problem, L_max, grid, memo, tau, sigma, theta):
    """What a drag of L up to L_max reads from ``memo`` (:func:`asymptotics_frame`): the forward run of L_max
    steps and ||grad_K|| at every L' of ``grid``; queued as idle work, so that a drag does not wait for them."""
    try:
        full = trace_run(problem, memo, L_max, L_max, tau, sigma, theta)
    except ValueError:
        return                      # steps that break (2.8): the dashboard shows the error, nothing to prepare
    for l in grid:
        _grid_norm(problem, memo, full, tau, sigma, theta, int(l))


def asymptotics_render(artists, frame):
    """Write an :class:`AsymptoticsFrame` into the artists of :func:`asymptotics_dashboard`; return the status.

    Curves longer than the panel is wide are drawn as their per-pixel envelope (:func:`envelope`).
    """
    run, r = frame.run, frame.run.residuals
    L = len(r.DK_delta_P)
    ax_masks, ax_res, ax_grad = artists["axes"]
    for ax in artists["axes"]:
        ax.set_xlim(0, frame.length)
    css_px = ax_res.bbox.width * CSS_DPI / ax_res.figure.dpi           # the panel's width on screen
    columns = max(1, int(css_px * L / frame.length))                    # screen pixel columns the curves span
    l = np.arange(1, L + 1)
    artists["changes"].set_data(*envelope(l, r.masks.changes, columns))
    settled = frame.unsettled == 0                      # else they change again after L: l_o > L, unknown here
    for line in artists["l_o"]:                       # in both panels: (4.2) speaks about l > l_o
        line.set_xdata([r.masks.l_o, r.masks.l_o])
        line.set_visible(settled)
    ax_masks.title.set_text(rf"Mask changes, last $l$ = {r.masks.l_o}" if settled else "Mask changes: not settled")
    values = (r.DK_delta_P, r.K_delta_P, r.PKt_delta_D, r.Kt_delta_D)
    # room above the curves (none on the top frame) and 16 decades below, down to rounding level: the
    # scale stays put while L moves, so the curves are seen to fall (a lower limit that followed their
    # smallest value moved back and forth during a drag)
    _, high = decade_limits(*values, margin=3)
    ax_res.set_ylim(1e-16 * high, high)
    floor = 1.3e-16 * high                   # a residual at rounding level (or 0) runs along the bottom, not off it
    for line, v in zip(artists["residuals"], values):
        line.set_data(*envelope(l, np.maximum(v, floor), columns))
    artists["grad"].set_data(run.Ls, run.grad_norms)
    artists["predicted"].set_data(run.Ls, run.predicted)
    ax_masks.set_ylim(0, nice_ceil(max(1, r.masks.changes.max())))
    high = max(run.grad_norms.max(), run.predicted.max() if settled else 0.0)
    ax_grad.set_ylim(0.0, nice_ceil(1.2 * high))          # a norm: from 0 (the slope line may leave it below)
    ax_grad.title.set_text(r"$\nabla_K\ell$: " + ("masks not yet settled" if not settled else   # (4.6), for the back row
                                               "a limit (4.6)" if run.slope_norm == 0 else
                                               f"grows by {run.slope_norm:.3g}/step (4.6)"))
    artists["predicted"].set_visible(settled)            # the slope of masks that still change: not the growth
    if not settled:
        return (f"{frame.model}; {frame.status}<br><b>masks at l = L differ from the solution's in {frame.unsettled} "
                "entries: they change after L (lₒ > L), so no slope (4.6) yet</b>")
    growth = ("slope 0, ∇ℓ has a limit" if run.slope_norm == 0 else
              f"∇ℓ grows by {run.slope_norm:.3g} per step (the rate ‖∇ℓ‖ approaches), no limit")
    # equal to the solution's masks at l = L, not proof that they stay so (a run may pass through them and change again)
    return (f"{frame.model}; {frame.status}<br>masks at l = L are the solution's, last change at l = {r.masks.l_o}; "
            f"(4.6): {growth}")


def asymptotics_dashboard(problem=None, L=200, tau=None, sigma=None, theta=1.0, L_max=1000):
    """Dashboard for notebooks 03a and 03b: masks, kernel residuals (4.2) and the growth of grad_K, live.

    Sliders L, tau, sigma, theta. Left: how many mask entries (4.1) change at each l, and
    l_o. Middle: the relative residuals of delta_P^l, delta_D^l over l in one run of length
    L (all four of section 4A: masked ||M_D K delta_P^l||, ||M_P K^T delta_D^l||, unmasked
    ||K delta_P^l||, ||K^T delta_D^l||, on a log scale of 16 decades below the largest, so that
    the curves are seen to fall as L grows); far from l = L the masked ones and ||K^T delta_D^l||
    vanish (delta_D^l -> 0), ||K delta_P^l|| need not. Right: ||grad_K|| of the first L' <= L
    iterations (L' on a fixed grid, plus L) with the
    line of slope (4.6) (TV-L1: linear growth; a summable problem gives slope 0), its title saying which
    (no limit and the growth per step, or a limit). Forward runs
    and gradient norms are cached per tau, sigma, theta; the run of L_max steps and the grid's
    norms are computed in the kernel's idle time (``board.idle``), so that a drag of L does
    not stop for them. Invalid steps show the error in red.

    Parameters
    ----------
    problem : Problem with 0/1 prox derivatives, or None (default: ``tv_l1_denoising_1d(n=48)``)
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
    sliders = step_sliders(problem, L, tau, sigma, theta, L_max)
    grid = np.unique(np.linspace(1, L_max, 9).round().astype(int))    # the L' of the right panel (plus L)
    first = asymptotics_run(problem, 2, problem.tau, problem.sigma, problem.theta)
    fig, axes = new_figure(3, width=3.0, height=3.3)
    ax_masks, ax_res, ax_grad = axes
    (changes,) = ax_masks.plot(np.arange(1, 3), first.residuals.masks.changes, drawstyle="steps-mid",
                               label="changed entries")
    l_o = ax_masks.axvline(first.residuals.masks.l_o, color="C3", linestyle="--", label="$l_o$ (once settled)")
    ax_masks.set(xlabel=r"iteration $l$", ylabel="changed entries of $M_P^l, M_D^l$",
                 title="Mask changes per iteration")
    legend_outside(ax_masks, "below", ncols=1)
    r = first.residuals
    residuals = plot_convergence(ax_res, dict(zip(RESIDUAL_LABELS, (r.DK_delta_P, r.K_delta_P, r.PKt_delta_D,
                                                                    r.Kt_delta_D))),
                                 title=r"Relative residuals of $\delta^l$", xlabel=r"iteration $l$",
                                 ylabel="residual (bottom: rounding)", start=1)
    lines = tuple(residuals.values())
    # the masked curves (4.2) wide; ||K delta_P|| (flat where (4.2) holds) thin on top; ||K^T delta_D||, which falls with
    # them and oscillates into a band, as a wider light band below them: it shows around a masked curve it equals
    # (TV-L1) and never hides one
    for line, style in zip(lines, ({"linewidth": 3.0, "zorder": 2}, {"linewidth": 1.5, "zorder": 3},
                                   {"linewidth": 3.0, "zorder": 2}, {"linewidth": 6.0, "color": "#f2a9a9", "zorder": 1})):
        line.set(**style)
    legend_outside(ax_res, "below", ncols=1)
    l_o_res = ax_res.axvline(first.residuals.masks.l_o, color="C3", linestyle="--", linewidth=1.0)   # l_o here too
    (grad,) = ax_grad.plot(first.Ls, first.grad_norms, "o-", label=r"unrolled $\|\nabla_K\ell(L')\|$ (3.4)")
    (predicted,) = ax_grad.plot(first.Ls, first.predicted, "k--", label="line with slope (4.6)")
    ax_grad.set(xlabel=r"number of iterations $L'$", ylabel=r"$\|\nabla_K\ell\|$",
                title=r"$\|\nabla_K\ell\|$ up to $L$")
    legend_outside(ax_grad, "below", ncols=1)
    artists = {"axes": axes, "changes": changes, "l_o": (l_o, l_o_res), "residuals": lines, "grad": grad,
               "predicted": predicted}
    board = Dashboard(sliders, fig, partial(asymptotics_frame, problem, L_max, grid),
                      partial(asymptotics_render, artists),
                      animated=(changes, l_o, ax_masks.title, *lines, l_o_res, grad, predicted, ax_grad.title),
                      memo_size=64)

    def prepare(change=None):       # for each choice of steps: the run of L_max steps and the grid, when idle
        steps = (sliders["tau"].value, sliders["sigma"].value, sliders["theta"].value)
        board.idle.replace([partial(_prepare, problem, L_max, grid, board.memo, *steps)])

    for name in ("tau", "sigma", "theta"):
        sliders[name].observe(prepare, names="value")
    prepare()
    return board
