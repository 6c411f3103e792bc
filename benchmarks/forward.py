"""The forward Chambolle-Pock iteration against plain numpy and PyProximal on 2-D TV denoising.

Problem: scikit-image's camera, block-mean downscaled to 256x256, noise 0.1, K the 2-D forward
differences (``operators.FiniteDifference``), F = 0.1 ||.||_1, G = 0.5 ||. - x||^2
(``prox.SquaredL2``), tau = sigma = 0.99 / ||K||, theta = 1, 300 iterations from x^0 = x,
xi^0 = 0. Measured side by side in one run (CPU time of this process, one thread, best of
``--repeat`` interleaved rounds); prints the times, their ratios and the largest difference of
the results; never fails on time.

- ``chambolle_pock``: the iteration with its trace (z_D, z_P and x of every step);
- plain loop (stores): the same iteration written out in numpy with slicing, storing the same
  trace;
- plain loop (no trace): the same, storing nothing;
- ``solve`` with tol = 0 and max_iter = 300: exactly 300 steps, no trace (the residual, which
  cannot fall below 0, is computed for the last step only; the warning that tol = 0 was not
  reached is suppressed);
- PyProximal's ``PrimalDual`` with pylops' ``Gradient`` (forward differences) on the same
  problem, where pyproximal and pylops are installed (benchmark-only dependencies).

    python benchmarks/forward.py [--repeat 5] [-L 300]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from cpteach import chambolle_pock, images, operators, prox, solve  # noqa: E402


def plain_loop(x, beta, tau, sigma, theta, L, store):
    """TV denoising by L Chambolle-Pock steps in plain numpy (slicing); the trace if ``store``."""
    n1, n2 = x.shape
    if store:
        z_D_all, z_P_all, x_all = np.empty((L, 2, n1, n2)), np.empty((L, n1, n2)), np.empty((L + 1, n1, n2))
        x_all[0] = x
    x_l, x_bar, xi = x, x, np.zeros((2, n1, n2))
    grad, div = np.zeros((2, n1, n2)), np.empty((n1, n2))
    for l in range(L):
        grad[0, :-1] = x_bar[1:] - x_bar[:-1]                    # forward differences, Neumann
        grad[1, :, :-1] = x_bar[:, 1:] - x_bar[:, :-1]
        z_D = xi + sigma * grad
        xi = np.clip(z_D, -beta, beta)                             # prox of sigma (beta ||.||_1)*
        div[:] = 0.0                                             # K^T xi = -div xi
        div[:-1] -= xi[0, :-1]
        div[1:] += xi[0, :-1]
        div[:, :-1] -= xi[1, :, :-1]
        div[:, 1:] += xi[1, :, :-1]
        z_P = x_l - tau * div
        x_new = (z_P + tau * x) / (1 + tau)                      # prox of tau 0.5 ||. - x||^2
        x_bar = x_new + theta * (x_new - x_l)
        x_l = x_new
        if store:
            z_D_all[l], z_P_all[l], x_all[l + 1] = z_D, z_P, x_new
    return (z_D_all, z_P_all, x_all) if store else x_l


def pyproximal_loop(x, beta, tau, sigma, theta, L):
    import pylops
    import pyproximal

    D = pylops.Gradient(dims=x.shape, edge=False, kind="forward", dtype="float64")
    u = pyproximal.optimization.primaldual.PrimalDual(
        pyproximal.L2(b=x.ravel()), pyproximal.L1(sigma=beta), D, x0=x.ravel(), tau=tau, mu=sigma,
        theta=theta, niter=L)
    return u.reshape(x.shape)


def fixed_steps_solve(K, F, G, x, tau, sigma, theta, L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # tol = 0 is never reached, on purpose
        return solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=0.0, max_iter=L)


def main(argv=None, beta=0.1):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of interleaved runs; the best time counts")
    parser.add_argument("-L", type=int, default=300, help="number of iterations")
    parser.add_argument("--size", type=int, default=256, help="side of the (top-left) crop of the 256x256 image")
    args = parser.parse_args(argv)
    L, repeat = args.L, args.repeat
    y = images.load_image("camera", scale=2)[:args.size, :args.size]
    x = images.add_noise(y, 0.1, seed=0)
    K = operators.FiniteDifference(x.shape)
    F, G = prox.L1(beta), prox.SquaredL2()
    tau = sigma = 0.99 / K.norm()
    theta = 1.0
    runs = {
        "chambolle_pock": lambda: chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=L),
        "plain loop (stores)": lambda: plain_loop(x, beta, tau, sigma, theta, L, store=True),
        "solve (L steps)": lambda: fixed_steps_solve(K, F, G, x, tau, sigma, theta, L),
        "plain loop (no trace)": lambda: plain_loop(x, beta, tau, sigma, theta, L, store=False),
    }
    try:
        import pylops  # noqa: F401
        import pyproximal  # noqa: F401
    except ImportError:
        missing = "PyProximal / pylops are not installed (pip install pyproximal pylops), comparison skipped"
    else:
        missing = None
        runs["PyProximal PrimalDual"] = lambda: pyproximal_loop(x, beta, tau, sigma, theta, L)
    best, out = dict.fromkeys(runs, np.inf), {}
    for _ in range(repeat):  # interleaved, so that all see the same machine load
        for name, run in runs.items():
            out[name] = None  # free the previous result first, so that every run starts from the same memory
            t0 = time.process_time()
            out[name] = run()
            best[name] = min(best[name], time.process_time() - t0)

    trace, (z_D_all, z_P_all, x_all) = out["chambolle_pock"], out["plain loop (stores)"]
    diffs = {
        "chambolle_pock": max(np.abs(trace.x_all - x_all).max(), np.abs(trace.z_P_all - z_P_all).max(),
                              np.abs(trace.z_D_all - z_D_all).max()),
        "plain loop (stores)": 0.0,
        "solve (L steps)": np.abs(out["solve (L steps)"].x_star - x_all[L]).max(),
        "plain loop (no trace)": np.abs(out["plain loop (no trace)"] - x_all[L]).max(),
    }
    if missing is None:
        diffs["PyProximal PrimalDual"] = np.abs(out["PyProximal PrimalDual"] - x_all[L]).max()
    print(f"2-D TV denoising {x.shape[0]}x{x.shape[1]}: {K}, F = {F}, G = {G}, tau = sigma = {tau:.4f}, "
          f"theta = {theta:g}, L = {L}")
    print(f"CPU times, one thread, best of {repeat}; 'max |diff|' compares x^L (for chambolle_pock: every "
          f"stored iterate) with the storing plain loop")
    print(f"  {'run':<24}{'time [ms]':>10}{'max |diff|':>12}")
    for name in runs:
        print(f"  {name:<24}{1e3 * best[name]:>10.1f}{diffs[name]:>12.1e}")
    ratios = [("chambolle_pock / plain loop (stores)", "chambolle_pock", "plain loop (stores)", 1.3),
              ("solve / plain loop (no trace)", "solve (L steps)", "plain loop (no trace)", 1.3)]
    if missing is None:
        ratios += [("chambolle_pock / PyProximal", "chambolle_pock", "PyProximal PrimalDual", 0.75),
                   ("solve / PyProximal", "solve (L steps)", "PyProximal PrimalDual", 0.5)]
    print("ratios:")
    for label, a, b, target in ratios:
        print(f"  {label:<38}{best[a] / best[b]:6.2f}   (target <= {target:g})")
    if missing:
        print(f"  {missing}")


if __name__ == "__main__":
    main()
