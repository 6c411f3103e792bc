"""Forward vs backward cost of the unrolled gradient, the size of the trace, and the race
against automatic differentiation of the same loop.

Problem: ``cpteach.problems.poster_example()``, 48 filters of 7x7 (2-D DCT basis without
DC, scaled to ||K|| = 1), a 64x64 crop of scikit-image's camera with noise 0.1, F = L1,
G = L2Ball, with its step sizes, L = 100. Prints CPU times (``time.process_time``, all
threads of the process; less sensitive to other processes than wall time) measured side
by side in one run (best of ``--repeat``, the runs interleaved so that all see the same
machine load) and their ratios; never fails on time.

Where PyTorch is installed, the same unrolled loop is differentiated by torch autograd,
in float64 on one thread, in two variants:

- ``torch.fft``: the circular cross-correlation computed exactly as
  ``operators.FilterBank`` does it (real FFTs of the image and of the zero-padded,
  rolled filters), i.e. the same algorithm, with its gradient derived by autograd
  instead of by hand; this is the comparison that counts;
- ``conv2d``: circular padding and ``torch.nn.functional.conv2d`` (direct convolution).

numpy, scipy and torch are limited to one thread (environment variables set before the
imports), so that the comparison is algorithm against algorithm.

Second table: the backward pass of ``backprop`` against the per-step path it replaced, side by
side (interleaved, best of ``--repeat``): :func:`per_step_backprop` below calls ``G.prox_vjp`` and
``F*.prox_vjp`` and reads xi^l, x_bar^{l-1} at every step l (3.2)-(3.4), where ``backprop`` takes
the prox derivatives (``prox_derivative`` on the trace's stacks) and the iterates of a block of steps
at once (a few blocks for a small problem, one step per block for a large one), and, for a small problem
whose 0/1 masks settle, one transition matrix per run of equal masks (a matrix-vector product per step);
the row "step by step" is backprop without transition matrices. On the
poster example (L as above) and on ``problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)``
(the dashboard of notebooks 03a/03b, ``--small-L`` steps); prints both times, the ratio and the
largest relative difference of grad_K, delta_P, delta_D (in norm).

    python benchmarks/gradient.py [--repeat 10] [-L 100] [--small-L 1500]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from cpteach import backprop, chambolle_pock, problems  # noqa: E402
from cpteach.backprop import (TRANSITION_ENTRIES, _adjoint_of_x, _backprop, _dual_gradient_term,  # noqa: E402
                              _primal_gradient_term, _runs)


def per_step_backprop(trace, y):
    """grad_K, delta_P, delta_D of backprop by the per-step path: (3.0), then for l = L..1 the prox_vjp calls of
    (3.2)-(3.3), the sum (3.4) and (3.1), reading the trace per step (the reference for the timing; backprop
    takes prox' and the iterates of blocks of steps at once)."""
    K, x, tau, sigma, theta = trace.K, trace.data, trace.tau, trace.sigma, trace.theta
    F_conj, G = trace.F_conj, trace.G
    delta_P_all, delta_D_all = np.empty((trace.L,) + x.shape), np.empty((trace.L,) + trace.xi0.shape)
    grad = K.param_grad_sum()
    a_x, a_x_prev = trace.x_L - y, np.zeros_like(x)                             # (3.0)
    delta_D = np.zeros_like(trace.xi0)
    for l in range(trace.L, 0, -1):
        delta_P = G.prox_vjp(trace.z_P(l) - x, tau, a_x)                         # (3.2)
        delta_D = F_conj.prox_vjp(trace.z_D(l), sigma, delta_D - K.apply(tau * delta_P))   # (3.3)
        Kt_delta_D = _dual_gradient_term(grad, delta_D, trace.x_bar(l - 1), sigma)          # (3.4)
        _primal_gradient_term(grad, trace.xi(l), delta_P, tau)                               # (3.4)
        a_x, a_x_prev = _adjoint_of_x(delta_P, Kt_delta_D, a_x_prev, sigma, theta)   # (3.1)
        delta_P_all[l - 1], delta_D_all[l - 1] = delta_P, delta_D
    return grad.value(), delta_P_all, delta_D_all


def backward_rows(name, trace, y, repeat):
    """Rows of the table backprop vs the per-step path (and backprop's own step-by-step path) on one trace."""
    (t_new, t_blocks, t_ref), (res, blocks, ref) = best_interleaved(
        [lambda r: backprop(trace, y), lambda r: _backprop(trace, y, transition_entries=0),
         lambda r: per_step_backprop(trace, y)], repeat)
    err = max(np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip((res.grad_K, res.delta_P, res.delta_D), ref))
    how = "transition matrices" if _runs(trace, TRANSITION_ENTRIES) is not None else "prox' per block of steps"
    return [(f"{name}, L = {trace.L}", ""),
            ("  backward, per-step prox_vjp (reference)", f"{1e3 * t_ref:8.1f} ms"),
            ("  backward, step by step, prox' per block of steps", f"{1e3 * t_blocks:8.1f} ms"),
            (f"  backward, backprop ({how})", f"{1e3 * t_new:8.1f} ms"),
            ("  per-step / backprop", f"{t_ref / t_new:8.2f}      (relative difference {err:.1e})"),
            ("  step by step / backprop", f"{t_blocks / t_new:8.2f}")]


def torch_fft_operator(torch, w, shape):
    """K u and K^T v as operators.FilterBank computes them, differentiable in the filters w."""
    c, k1, k2 = w.shape
    h = torch.zeros((c,) + shape, dtype=torch.float64)
    h[:, :k1, :k2] = w
    H = torch.fft.rfft2(torch.roll(h, (-(k1 // 2), -(k2 // 2)), dims=(-2, -1)))

    def apply(u):  # irfft(conj(H) U)
        return torch.fft.irfft2(torch.conj(H) * torch.fft.rfft2(u), s=shape)

    def adjoint(v):  # irfft(sum_c H_c V_c)
        return torch.fft.irfft2(torch.sum(H * torch.fft.rfft2(v), dim=0), s=shape)

    return apply, adjoint


def torch_conv_operator(torch, w, shape):
    """K u and K^T v by circular padding and direct convolution."""
    c, k1, k2 = w.shape
    pad = (k2 // 2, k2 // 2, k1 // 2, k1 // 2)
    conv = torch.nn.functional

    def apply(u):
        return conv.conv2d(conv.pad(u[None, None], pad, mode="circular"), w[:, None])[0]

    def adjoint(v):
        full = conv.conv_transpose2d(conv.pad(v[None], pad, mode="circular"), w[:, None])[0, 0]
        return full[k1 - 1:-(k1 - 1), k2 - 1:-(k2 - 1)]

    return apply, adjoint


def torch_gradient(torch, make_operator, K, F, G, x, y, tau, sigma, theta, L):
    """grad_K of 0.5 ||y - x^L||^2 by torch autograd through L steps of (2.1)-(2.5), F = L1, G = L2Ball."""
    w = torch.tensor(K.params, dtype=torch.float64, requires_grad=True)
    xt, yt = torch.tensor(x), torch.tensor(y)
    apply, adjoint = make_operator(torch, w, x.shape)
    x_l, x_bar, xi = xt, xt, torch.zeros(K.shape_out, dtype=torch.float64)
    for _ in range(L):
        xi = torch.clamp(xi + sigma * apply(x_bar), -F.weight, F.weight)  # prox of sigma F*, F = weight ||.||_1
        v = x_l - tau * adjoint(xi) - xt
        x_new = v * torch.clamp(G.radius / torch.linalg.norm(v), max=1.0) + xt  # projection onto the ball
        x_bar, x_l = x_new + theta * (x_new - x_l), x_new
    loss = 0.5 * torch.sum((x_l - yt) ** 2)
    loss.backward()
    return w.grad.numpy()


def best_interleaved(fns, repeat):
    """Best CPU time and last result of each function, the calls interleaved round by round."""
    best, results = [np.inf] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            results[i] = fn(results)
            best[i] = min(best[i], time.process_time() - t0)
    return best, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="rounds of interleaved runs; the best time counts")
    parser.add_argument("-L", type=int, default=100, help="number of unrolled iterations")
    parser.add_argument("--size", type=int, default=64, help="side of the poster example's crop")
    parser.add_argument("--small-L", type=int, default=1500, help="steps of the 1-D TV-L1 problem (second table)")
    args = parser.parse_args(argv)
    L, repeat = args.L, args.repeat
    p = problems.poster_example(size=args.size)
    K, F, G, x, y, tau, sigma, theta = p.K, p.F, p.G, p.x, p.y, p.tau, p.sigma, p.theta
    fns = [lambda r: chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=L),
           lambda r: backprop(r[0], y)]
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(1)
        for make in (torch_fft_operator, torch_conv_operator):
            fns.append(lambda r, make=make: torch_gradient(torch, make, K, F, G, x, y, tau, sigma, theta, L))
    times, results = best_interleaved(fns, repeat)
    t_fwd, t_bwd = times[:2]
    trace, res = results[:2]
    k, n = K.size_out, K.size_in
    per_iteration = trace.nbytes / 8 / L
    print(f"{p.name}: {K}, F = {F}, G = {G}, tau = {tau:.4g}, sigma = {sigma:.4g}, theta = {theta:g}, L = {L}")
    print(f"CPU times, one thread, best of {repeat}")
    rows = [("forward  chambolle_pock", f"{1e3 * t_fwd:8.1f} ms"),
            ("backward backprop", f"{1e3 * t_bwd:8.1f} ms"),
            ("backward / forward", f"{t_bwd / t_fwd:8.2f}      (target <= 1.3)"),
            ("trace floats/iteration", f"{per_iteration:8.0f}      minimal k + 2n = {k + 2 * n}, "
                                       f"ratio {per_iteration / (k + 2 * n):.3f} (target <= 1.25)")]
    if torch is None:
        rows.append(("torch autograd", "PyTorch is not installed, comparison skipped (pip install torch to run it)"))
    for name, t, g in zip(("torch.fft", "conv2d"), times[2:], results[2:]):
        err = np.linalg.norm(g - res.grad_K) / np.linalg.norm(res.grad_K)
        rows.append((f"torch autograd fwd+bwd, {name}", f"{1e3 * t:8.1f} ms   (relative difference of grad_K {err:.1e})"))
        rows.append(("  cpteach fwd+bwd / torch", f"{(t_fwd + t_bwd) / t:8.2f}"
                     + ("      (target <= 1)" if name == "torch.fft" else "")))
    for label, value in rows:
        print(f"  {label:<44}: {value}")
    small = problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)
    small_trace = chambolle_pock(small.K, small.F, small.G, small.x, tau=small.tau, sigma=small.sigma,
                                 theta=small.theta, L=args.small_L)
    print(f"backprop against the per-step path, CPU times, one thread, best of {repeat} interleaved")
    for label, value in (backward_rows(p.name, trace, y, repeat)
                         + backward_rows(small.name, small_trace, small.y, repeat)):
        print(f"  {label:<50}{': ' + value if value else ''}")


if __name__ == "__main__":
    main()
