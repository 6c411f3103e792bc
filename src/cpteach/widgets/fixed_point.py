"""Notebook 04's dashboard: unrolled (3.4), one-step (5.3) and implicit (5.5) gradients, live."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..backprop import backprop
from ..chambolle_pock import chambolle_pock, solve
from ..fixed_point import cosine_and_error, fixed_point_gradient, implicit_gradient, unrolled_against
from ..plotting import decade_limits, legend_outside, new_figure, nice_ceil, plot_heatmap, update_heatmap
from ..problems import ball_problem
from ._dashboard import Dashboard, step_condition_html, step_sliders, trace_cache

__all__ = ["FixedPointReference", "fixed_point_reference", "FixedPointRun", "fixed_point_run",
           "fixed_point_dashboard"]


@dataclass(frozen=True)
class FixedPointReference:
    """The L-independent gradients of one choice of tau, sigma, theta: the one-step gradient (5.3),
    the implicit gradient (5.5), and a solver warning (empty if none)."""

    one_step: np.ndarray
    implicit: np.ndarray
    warning: str


def fixed_point_reference(problem, tau, sigma, theta, tol=1e-10, max_iter=20000):
    """Solve once (warm-started at the problem's solution) and return the one-step (5.3) and implicit
    (5.5) gradients from that solution; solver warnings are returned as text, not raised.

    Raises the library's ValueError for invalid steps.

    Examples
    --------
    >>> ref = fixed_point_reference(ball_problem(k=6, n=4), tau=0.3, sigma=0.3, theta=1.0)
    >>> ref.implicit.shape, ref.warning
    ((6, 4), '')
    """
    K, F, G, x, y = problem.K, problem.F, problem.G, problem.x, problem.y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter,
                    x0=problem.x_star, xi0=problem.xi_star)
        implicit = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=tol, solution=sol)  # (5.5)
    one_step = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, solution=sol)      # (5.3)
    warning = " ".join(str(w.message).split(";")[0] for w in caught)
    return FixedPointReference(one_step.grad_K, implicit.grad_K, warning)


@dataclass(frozen=True)
class FixedPointRun:
    """Unrolled gradients for L' in ``Ls`` (the last is L) against the implicit one, and the one-step one.

    ``cosine[i]``, ``rel_error[i]`` compare the unrolled gradient (3.4) of L' = ``Ls[i]``
    iterations with the implicit gradient; ``unrolled`` is the one of L; ``reference`` holds
    the one-step and implicit gradients (:class:`FixedPointReference`).
    """

    Ls: np.ndarray
    cosine: np.ndarray
    rel_error: np.ndarray
    unrolled: np.ndarray
    reference: FixedPointReference

    @property
    def one_step_cosine(self):
        return cosine_and_error(self.reference.one_step, self.reference.implicit)[0]

    @property
    def one_step_rel_error(self):
        return cosine_and_error(self.reference.one_step, self.reference.implicit)[1]


def _compare(trace, y, Ls, reference, known):
    """:class:`FixedPointRun` from the prefixes of ``trace`` of lengths ``Ls`` (last = trace.L); ``known``
    maps L' -> (cosine, error) already computed for the same steps (filled in)."""
    unrolled = backprop(trace, y).grad_K                                                   # (3.4)
    missing = [int(l) for l in Ls[:-1] if l not in known]
    if missing:
        known.update(zip(missing, zip(*unrolled_against(trace, y, missing, reference.implicit))))
    pairs = np.array([known[l] for l in Ls[:-1]] + [cosine_and_error(unrolled, reference.implicit)])
    return FixedPointRun(np.asarray(Ls), pairs[:, 0], pairs[:, 1], unrolled, reference)


def fixed_point_run(problem, L, tau, sigma, theta, points=6, reference=None):
    """Unrolled gradients for ``points`` values L' <= L (log-spaced) against the implicit gradient
    (5.5), and the one-step gradient (5.1)-(5.3).

    ``reference`` is a :class:`FixedPointReference` for the same tau, sigma, theta (computed by
    :func:`fixed_point_reference` when None). Raises the library's ValueError for invalid steps.

    Examples
    --------
    >>> run = fixed_point_run(ball_problem(k=6, n=4), L=50, tau=0.3, sigma=0.3, theta=1.0)
    >>> run.cosine.shape == run.Ls.shape, bool(run.cosine[-1] > 0.99)
    (True, True)
    """
    reference = fixed_point_reference(problem, tau, sigma, theta) if reference is None else reference
    trace = chambolle_pock(problem.K, problem.F, problem.G, problem.x, tau=tau, sigma=sigma, theta=theta, L=L)
    Ls = np.unique(np.geomspace(1, L, min(points, L)).round().astype(int))
    return _compare(trace, problem.y, Ls, reference, {})


def fixed_point_dashboard(problem=None, L=100, tau=None, sigma=None, theta=1.0, L_max=1000):
    """Dashboard for notebook 04: unrolled, one-step and implicit gradients, live.

    Sliders L, tau, sigma, theta. Top row: cosine and relative error of the unrolled gradient
    (3.4) of L' <= L iterations (a fixed log grid plus L) against the implicit gradient (5.5), the
    one-step gradient (5.3) as a dashed line, and the cosines at L as bars. Bottom row: the three
    gradients as heat maps (rows and columns of K) on ONE colour scale. The implicit gradient is
    the derivative of the loss at the solution, so it does not move with tau, sigma, theta; the
    unrolled and the one-step gradients do. Runs and references are cached per tau, sigma, theta.
    Invalid steps show the library's error in red.

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
    sliders = step_sliders(problem, L, tau, sigma, theta, L_max)
    K, y = problem.K, problem.y
    traces = trace_cache(problem, L_max)
    references = lru_cache(maxsize=8)(lambda tau, sigma, theta: fixed_point_reference(problem, tau, sigma, theta))
    grid = np.unique(np.geomspace(1, L_max, 12).round().astype(int))   # the L' of the curves (plus L)
    known = {}                                                          # (tau, sigma, theta) -> {L': (cos, err)}
    shown = {}                                                          # what the static heat maps show
    steps = sliders["tau"].value, sliders["sigma"].value, sliders["theta"].value   # cached for the first frame
    try:
        first = fixed_point_run(problem, 2, *steps, reference=references(*steps))
    except ValueError:                                                  # invalid initial steps: draw the problem's
        first = fixed_point_run(problem, 2, problem.tau, problem.sigma, problem.theta)
    fig, axes = new_figure(3, nrows=2, width=3.3, height=2.55)
    ax_cos, ax_err, ax_bar = axes[:3]
    (cosine,) = ax_cos.semilogx(first.Ls, first.cosine, "o-", label="unrolled (3.4)")
    one_step_cosine = ax_cos.axhline(first.one_step_cosine, color="C1", linestyle="--", label="one-step (5.3)")
    ax_cos.set(xlabel=r"iterations $L'$", ylabel="cosine to implicit", title="Cosine to the implicit (5.5)")
    legend_outside(ax_cos, "below", ncols=1)
    (error,) = ax_err.loglog(first.Ls, first.rel_error, "o-", label="unrolled (3.4)")
    one_step_error = ax_err.axhline(first.one_step_rel_error, color="C1", linestyle="--", label="one-step (5.3)")
    ax_err.set(xlabel=r"iterations $L'$", ylabel="relative error", title="Relative error to the implicit")
    legend_outside(ax_err, "below", ncols=1)
    bars = ax_bar.bar(["unrolled", "one-step", "implicit"], [first.cosine[-1], first.one_step_cosine, 1.0],
                      color=["C0", "C1", "C2"])
    ax_bar.set(ylim=(-1.05, 1.05), ylabel="cosine", title="Cosines at $L$")
    ax_bar.axhline(0, color="k", linewidth=0.5)
    titles = {"unrolled": r"unrolled $\nabla_K\ell$ (3.4)", "one_step": r"one-step $\nabla_K$ (5.3)",
              "implicit": r"implicit $\nabla_K$ (5.5)"}
    gradients = {"unrolled": first.unrolled, "one_step": first.reference.one_step,
                 "implicit": first.reference.implicit}
    heat = {}
    for i, (key, ax) in enumerate(zip(titles, axes[3:])):
        heat[key] = plot_heatmap(ax, gradients[key], titles[key], "column of K", "row of K" if i == 0 else "",
                                 colorbar_label="∂ℓ/∂K (one scale)" if i == 2 else None,
                                 colorbar_axes=list(axes[3:]))

    def redraw(L, tau, sigma, theta):
        status = step_condition_html(K, tau, sigma, theta)
        full = traces((tau, sigma, theta), L)
        reference = references(tau, sigma, theta)
        Ls = np.append(grid[grid < L], L)
        run = _compare(full.prefix(L), y, Ls, reference, known.setdefault((tau, sigma, theta), {}))
        cosine.set_data(run.Ls, run.cosine)
        one_step_cosine.set_ydata([run.one_step_cosine] * 2)
        error.set_data(run.Ls, np.maximum(run.rel_error, 1e-16))
        one_step_error.set_ydata([max(run.one_step_rel_error, 1e-16)] * 2)
        for bar, value in zip(bars, (run.cosine[-1], run.one_step_cosine, 1.0)):
            bar.set_height(value)
        ax_bar.title.set_text(rf"Cosines at $L$ = {L}")
        vmax = nice_ceil(max(np.max(np.abs(g)) for g in (run.unrolled, reference.one_step, reference.implicit)))
        update_heatmap(heat["unrolled"], run.unrolled, vmax=vmax)
        if shown.get("reference") is not reference or shown.get("vmax") != vmax:   # static until tau, sigma, theta
            update_heatmap(heat["one_step"], reference.one_step, vmax=vmax)          # or the scale change
            update_heatmap(heat["implicit"], reference.implicit, vmax=vmax)
            shown.update(reference=reference, vmax=vmax)
        for ax in (ax_cos, ax_err):
            ax.set_xlim(0.8, 1.25 * full.L)
        low = min(run.cosine.min(), run.one_step_cosine)
        ax_cos.set_ylim(-1.05 if low < 0 else np.floor(10 * low) / 10 - 0.02, 1.02)
        ax_err.set_ylim(*decade_limits(run.rel_error, run.one_step_rel_error, floor=1e-16, step=4))
        status += (f"; cosine to implicit: unrolled(L) {run.cosine[-1]:.4f}, one-step "
                   f"{run.one_step_cosine:.4f}")
        if reference.warning:
            status += f" <b style='color:#c00000'>⚠ {reference.warning}</b>"
        return status

    return Dashboard(sliders, fig, redraw, animated=(cosine, one_step_cosine, error, one_step_error, *bars,
                                                     ax_bar.title, heat["unrolled"]))
