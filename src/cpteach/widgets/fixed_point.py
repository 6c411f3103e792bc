"""Notebook 04's dashboard: unrolled (3.4), one-step (5.3) and implicit (5.5) gradients, live."""
from __future__ import annotations

import html
from dataclasses import dataclass
from functools import partial

import numpy as np
from matplotlib.ticker import NullFormatter

from ..backprop import backprop
from ..chambolle_pock import chambolle_pock, solve
from ..fixed_point import (TheoremConditions, cosine_and_error, fixed_point_gradient, implicit_gradient,
                           theorem_conditions, unrolled_against)
from ..plotting import decade_limits, new_figure, percentile_scale, plot_heatmap, update_heatmap
from ..problems import ball_problem
from ._controls import step_condition_html, step_sliders, theorem_text, unicode_text
from ._dashboard import Dashboard, axis_length, trace_run

__all__ = ["FixedPointReference", "fixed_point_reference", "FixedPointRun", "fixed_point_run",
           "FixedPointFrame", "fixed_point_frame", "fixed_point_render", "fixed_point_dashboard"]


@dataclass(frozen=True)
class FixedPointReference:
    """The L-independent gradients of one choice of tau, sigma, theta: the one-step gradient (5.3),
    the implicit gradient (5.5), a solver warning (empty if none) and the verdict of
    :func:`cpteach.fixed_point.theorem_conditions` (whether the implicit gradient is the limit; None
    where the problem is outside its scope)."""

    one_step: np.ndarray
    implicit: np.ndarray
    warning: str
    conditions: TheoremConditions | None = None


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
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter, x0=problem.x_star,
                xi0=problem.xi_star, warn=False)
    implicit = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=tol, solution=sol,
                                 warn=False)                                                              # (5.5)
    one_step = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, solution=sol)      # (5.3)
    warning = " ".join(w for w in (sol.warning, implicit.warning) if w)   # the library's messages
    try:                                                   # the theorem of section 5C, checked, not inferred
        conditions = theorem_conditions(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma, theta=theta)
    except (TypeError, ValueError):                        # F* without a 0/1 derivative: outside its scope
        conditions = None
    return FixedPointReference(one_step.grad_K, implicit.grad_K, warning, conditions)


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


def _compare(trace, y, Ls, reference, pairs_of):
    """:class:`FixedPointRun` from the prefixes of ``trace`` of lengths ``Ls`` (last = trace.L);
    ``pairs_of(missing)`` returns (cosine, error) of each L' in ``Ls[:-1]`` (e.g. from a memo)."""
    unrolled = backprop(trace, y).grad_K                                                   # (3.4)
    pairs = np.array(pairs_of([int(l) for l in Ls[:-1]]) + [cosine_and_error(unrolled, reference.implicit)])
    return FixedPointRun(np.asarray(Ls), pairs[:, 0], pairs[:, 1], unrolled, reference)


def _pairs(trace, y, implicit, Ls):
    """(cosine, error) of the unrolled gradient of the first L' steps of ``trace`` against ``implicit``, L' in Ls."""
    return list(zip(*unrolled_against(trace, y, Ls, implicit))) if Ls else []


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
    return _compare(trace, problem.y, Ls, reference, partial(_pairs, trace, problem.y, reference.implicit))


@dataclass(frozen=True)
class FixedPointFrame:
    """What :func:`fixed_point_dashboard` shows: the :class:`FixedPointRun` of the first L steps of a
    cached run, the curves' x-range ``length`` (:func:`axis_length` of L), the heat maps' colour
    scale ``vmax`` and the status line."""

    run: FixedPointRun
    length: int
    vmax: float
    status: str


def fixed_point_frame(problem, L_max, grid, memo, L, tau, sigma, theta):
    """The :class:`FixedPointFrame` for the slider values; the forward run, the reference gradients and
    the comparisons at the L' of ``grid`` come from ``memo``."""
    status = step_condition_html(problem.K, tau, sigma, theta)
    full = trace_run(problem, memo, L, L_max, tau, sigma, theta)
    reference = memo(("reference", tau, sigma, theta), fixed_point_reference, problem, tau, sigma, theta)

    def pairs_of(Ls):
        missing = [l for l in Ls if ("pair", tau, sigma, theta, l) not in memo]
        new = dict(zip(missing, _pairs(full, problem.y, reference.implicit, missing)))   # one backward pass
        # a pair the memo held a moment ago may have made room for the new ones since: computed again then
        return [memo(("pair", tau, sigma, theta, l),
                     lambda l=l: new[l] if l in new else _pairs(full, problem.y, reference.implicit, [l])[0])
                for l in Ls]

    run = _compare(full.prefix(L), problem.y, np.append(grid[grid < L], L), reference, pairs_of)
    vmax = percentile_scale(reference.implicit)            # one scale for the three, fixed as the implicit is
    return FixedPointFrame(run, axis_length(L, L_max), vmax, status)


def fixed_point_render(artists, frame):
    """Write a :class:`FixedPointFrame` into the artists of :func:`fixed_point_dashboard`; return the status."""
    run, reference, vmax = frame.run, frame.run.reference, frame.vmax
    ax_cos, ax_err = artists["axes"]
    artists["cosine"].set_data(run.Ls, run.cosine)
    artists["one_step_cosine"].set_ydata([run.one_step_cosine] * 2)
    artists["error"].set_data(run.Ls, np.maximum(run.rel_error, 1e-16))
    artists["one_step_error"].set_ydata([max(run.one_step_rel_error, 1e-16)] * 2)
    heat = artists["heat"]
    update_heatmap(heat["unrolled"], run.unrolled, vmax=vmax)
    update_heatmap(heat["one_step"], reference.one_step, vmax=vmax)      # moves with tau, sigma, theta: animated
    size = np.linalg.norm(reference.implicit)              # each moving map's size in the implicit's units: a
    for key, grad in (("unrolled", run.unrolled), ("one_step", reference.one_step)):   # faint or saturated map says it
        artists["sizes"][key].set_text(f"‖·‖ = {np.linalg.norm(grad) / size:.2g} × implicit")   # plain text: no
        # mathtext to lay out per frame
    # the implicit gradient does not move (up to the solver's tolerance): static, redrawn only where the scale changes
    # or it moves by a thousandth of the scale (a colour level of the map is 2 / 256 of it)
    implicit = heat["implicit"]
    if implicit.norm.vmax != vmax or np.max(np.abs(implicit.get_array() - reference.implicit)) > 1e-3 * vmax:
        update_heatmap(implicit, reference.implicit, vmax=vmax)
    for ax in (ax_cos, ax_err):
        ax.set_xlim(0.8, 1.25 * frame.length)
    low = min(run.cosine.min(), run.one_step_cosine)
    ax_cos.set_ylim(-1.05 if low < 0 else np.floor(10 * low) / 10 - 0.02, 1.02)
    # room above the largest curve and below the smallest: an error of about 1 (the one-step line, often) would sit
    # on the top frame, or on the bottom one where every error is at least 1 (small sigma)
    ax_err.set_ylim(*decade_limits(run.rel_error, run.one_step_rel_error, floor=1e-16, step=4, margin=3))
    conditions = reference.conditions                      # the theorem's verdict, in the figure for the back row
    artists["verdict"].set_text("" if conditions is None else unicode_text("\n".join(
        ["theorem (5C) holds:\nunrolled → implicit as L → ∞" if conditions.applies
         else "theorem (5C) fails:" if conditions.theta_is_one
         else "theorem (5C): stated for θ = 1", *conditions.failures])))
    artists["verdict"].set_color("green" if conditions is not None and conditions.applies else "#c00000")
    status = (frame.status + f"; cosine to implicit: unrolled(L) {run.cosine[-1]:.4f}, one-step "
              f"{run.one_step_cosine:.4f}")
    if reference.conditions is not None:
        status += f"<br>{html.escape(theorem_text(reference.conditions, explain=True))}"
    if reference.warning:
        status += f" <b style='color:#c00000'>⚠ {html.escape(unicode_text(reference.warning))}</b>"
    return status


def fixed_point_dashboard(problem=None, L=100, tau=None, sigma=None, theta=1.0, L_max=1000):
    """Dashboard for notebook 04: unrolled, one-step and implicit gradients, live.

    Sliders L, tau, sigma, theta. Top row: cosine and relative error of the unrolled gradient
    (3.4) of L' <= L iterations (a fixed log grid plus L) against the implicit gradient (5.5), the
    one-step gradient (5.3) as a dashed line, one legend for both, and under it whether the theorem of
    section 5C holds (and which of its conditions fail), in green or red. Bottom row: the three
    gradients as heat maps (rows and columns of K) on ONE colour scale, the implicit gradient's (the 98th
    percentile of its magnitudes: a few large entries saturate, so the structure of the rest shows). The implicit
    gradient is the derivative of the loss at the solution, so it does not move with tau, sigma, theta, and neither
    does the scale (a scale pooled over the three followed an unrolled gradient ten times larger, and the implicit
    map seemed to change with the steps); the unrolled and the one-step gradients move, and saturate where they
    are larger. Runs and references are cached per tau, sigma, theta.
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
    grid = np.unique(np.geomspace(1, L_max, 12).round().astype(int))   # the L' of the curves (plus L)
    ones, zeros = np.ones(2), np.zeros(problem.K.M.shape)   # placeholders: the first frame draws the data
    fig, axes = new_figure(3, nrows=2, width=3.0, height=2.55)
    ax_cos, ax_err, ax_key = axes[:3]
    (cosine,) = ax_cos.semilogx([1, 2], ones, "o-", label="unrolled (3.4)")
    one_step_cosine = ax_cos.axhline(1.0, color="C1", linestyle="--", label="one-step (5.3)")
    ax_cos.set(xlabel=r"iterations $L'$", ylabel="cosine to implicit", title="Cosine to implicit (5.5)")
    (error,) = ax_err.loglog([1, 2], ones, "o-", label="unrolled (3.4)")
    one_step_error = ax_err.axhline(1.0, color="C1", linestyle="--", label="one-step (5.3)")
    ax_err.set(xlabel=r"iterations $L'$", ylabel="relative error", title="Error to implicit (5.5)")
    for ax in (ax_cos, ax_err):                 # at small L the log axis spans less than a decade: its minor
        ax.xaxis.set_minor_formatter(NullFormatter())   # tick labels would run together ("8×10⁻¹9×10⁻¹10⁰")
    ax_key.axis("off")                          # the two curves' legend, once for both panels
    ax_key.legend(handles=[cosine, one_step_cosine], loc="upper left", frameon=False)
    verdict = ax_key.text(0.05, 0.45, "", transform=ax_key.transAxes, va="top", linespacing=1.4, weight="bold")
    titles = {"unrolled": r"unrolled $\nabla_K\ell$ (3.4)", "one_step": r"one-step $\nabla_K\ell$ (5.3)",
              "implicit": r"implicit $\nabla_K\ell$ (5.5)"}
    heat = {}
    for i, (key, ax) in enumerate(zip(titles, axes[3:])):
        heat[key] = plot_heatmap(ax, zeros, titles[key] + "\n ", "column of K", "row of K" if i == 0 else "",
                                 colorbar_label="∂ℓ/∂K, the implicit's\nscale (its top 2% saturate)" if i == 2 else None,
                                 colorbar_axes=list(axes[3:]))
    # the title's second line: the size of the moving maps, relative to the implicit gradient's
    sizes = {key: heat[key].axes.annotate("", (0.5, 1.0), xycoords="axes fraction", xytext=(0, 6),
                                          textcoords="offset points", ha="center", va="bottom",
                                          fontsize=heat[key].axes.title.get_fontsize()) for key in ("unrolled", "one_step")}
    artists = {"axes": (ax_cos, ax_err), "cosine": cosine, "one_step_cosine": one_step_cosine,
               "error": error, "one_step_error": one_step_error, "heat": heat, "verdict": verdict, "sizes": sizes}
    return Dashboard(sliders, fig, partial(fixed_point_frame, problem, L_max, grid),
                     partial(fixed_point_render, artists),
                     animated=(cosine, one_step_cosine, error, one_step_error, heat["unrolled"], heat["one_step"],
                               verdict, *sizes.values()),
                     memo_size=64)
