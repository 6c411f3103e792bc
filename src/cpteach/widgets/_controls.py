"""The controls and status texts the dashboards share: the step sliders (L, tau, sigma, theta), the
status line of the step-size condition, and the Unicode of the library's ASCII notation."""
from __future__ import annotations

import math
import re

import ipywidgets as widgets

from .._validate import step_product
from ..chambolle_pock import check_steps

__all__ = ["step_sliders", "step_condition_html", "unicode_text", "model_text", "theorem_text"]


# ASCII notation of the library's messages and problem names -> the Unicode the dashboards show
_UNICODE = [(r"\|\|\.\|\|", "‖·‖"), (r"\|\|", "‖"), (r"\^2", "²"), (r"_1\b", "₁"), (r"\btau\b", "τ"),
            (r"\bsigma\b", "σ"), (r"\btheta\b", "θ"), (r"\bgrad_K\b", "∇_K\u00a0ℓ"), (r"(?<=[τσ])\*(?=[σ‖])", ""),
            (r">=", "≥"), (r"<=", "≤"), (r"\bJ\^T", "Jᵀ"), (r"\bI - J", "I − J"), (r"(?<=\d) x (?=\d)", " × ")]


def unicode_text(text):
    """``text`` with the ASCII notation of the library (tau*sigma*||K||^2 >= 1, ||.||_1, grad_K) in the
    Unicode the status lines use (τσ‖K‖² ≥ 1, ‖·‖₁, ∇_K ℓ).

    >>> unicode_text("tau*sigma*||K||^2 >= 1; lower tau (G = 0.3 ||.||_1)")
    'τσ‖K‖² ≥ 1; lower τ (G = 0.3 ‖·‖₁)'
    """
    for pattern, unicode in _UNICODE:
        text = re.sub(pattern, unicode, text)
    return text


def model_text(problem):
    """The problem's name with F and G in the notation of the presenter's chooser, for a status line that
    names the problem where no chooser does.

    >>> from cpteach.problems import tv_l1_denoising_1d
    >>> model_text(tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5))
    '1-D TV-L1 denoising (n = 48): F = ‖·‖₁, G = 0.5 ‖·‖₁'
    """
    def term(f):          # in the library's ASCII notation, which unicode_text turns into the chooser's
        if type(f).__name__ == "L1" and hasattr(f, "weight"):
            return "||.||_1" if f.weight == 1 else f"{f.weight:g} ||.||_1"        # not '1 ||.||_1'
        if type(f).__name__ == "SquaredL2" and hasattr(f, "weight"):
            return f"{f.weight:g}/2 ||.||^2"
        return repr(f)
    return unicode_text(f"{problem.name}: F = {term(problem.F)}, G = {term(problem.G)}")


def theorem_text(conditions, explain=False):
    """Whether the theorem of section 5C holds (``conditions``: :class:`cpteach.fixed_point.TheoremConditions`),
    in a status line's words; with ``explain``, what it then says, or that nothing guarantees it.

    >>> from cpteach import problems
    >>> from cpteach.fixed_point import theorem_conditions
    >>> p = problems.tv_l1_denoising_1d()
    >>> theorem_text(theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma))
    'theorem (5C) fails: primal not unique (1), I − Jᵀ singular (3)'
    """
    failed = ", ".join(conditions.failures)
    if conditions.applies:
        return "theorem (5C) holds" + (": the unrolled gradients converge to the implicit one, the true gradient"
                                       if explain else "")
    if not conditions.theta_is_one:
        text = (f"theorem (5C) is stated for θ = 1, not this θ (conditions 1-3 {'fail: ' + failed if failed else 'hold'})"
                + ("; do the unrolled gradients still converge?" if explain else ""))
    else:
        text = f"theorem (5C) fails: {failed}" + (
            "; nothing then guarantees that the unrolled gradients converge to 'implicit' (what GMRES returns for "
            "(5.5)) or that it is the true gradient" if explain else "")
    return unicode_text(text)


def step_condition_html(K, tau, sigma, theta):
    """The status line for valid steps; raise a ValueError of two short sentences for invalid ones (the
    library's own message, which names a safe choice, where it is not the product that fails)."""
    product = tau * sigma * K.norm() ** 2
    try:
        check_steps(K, tau, sigma, theta)
    except ValueError as err:
        reason = (f"tau*sigma*||K||^2 = {step_product(product)} >= 1: the step-size condition fails (CP may diverge); "
                  "lower tau or sigma" if product >= 1 else str(err))
        raise ValueError(f"{reason}. The figure shows the last valid choice.") from err
    guarantee = "" if theta == 1 else " (it guarantees convergence for θ = 1 only)"
    return f"<span style='color:green'>τσ‖K‖² = {step_product(product)} &lt; 1: step-size condition holds</span>{guarantee}"


def step_sliders(problem, L, tau, sigma, theta, L_max):
    """Sliders for L (int, 1..L_max), tau and sigma (log scale, about 10^-3 .. 4 / ||K||), theta in [0, 1].

    ``tau`` or ``sigma`` None starts at the problem's steps. They send values while dragged
    (``continuous_update=True``).
    """
    tau = problem.tau if tau is None else tau
    sigma = problem.sigma if sigma is None else sigma
    step_max = math.log10(4.0 / problem.K.norm())
    common = {"continuous_update": True, "style": {"description_width": "1.5em"},
              "layout": widgets.Layout(width="auto", min_width="12em")}

    def log_slider(value, description):
        # the browser snaps a slider to min + k * step: put the start value on that grid, else it is moved
        # (0.495 -> 0.491) and the figure no longer shows the steps the notebook computes with
        low = math.log10(value) - 0.01 * round((math.log10(value) - (step_max - 3)) / 0.01)
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=low + 3, step=0.01, readout_format=".3g",
                                      description=description, **common)

    wide = {**common, "layout": widgets.Layout(width="auto", min_width="12em", grid_column="1 / -1")}
    return {     # L has a row of its own: its track is long enough to reach a chosen L by dragging
        "L": widgets.IntSlider(value=L, min=1, max=L_max, description="L", **wide),
        "tau": log_slider(tau, "τ"),
        "sigma": log_slider(sigma, "σ"),
        "theta": widgets.FloatSlider(value=theta, min=0.0, max=1.0, step=0.05, description="θ",
                                     readout_format=".2f", **common),
    }
