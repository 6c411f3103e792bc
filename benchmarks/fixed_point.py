"""Time and peak memory of unrolled backprop (L = 10, 100, 1000) against the fixed-point and
implicit gradients on the poster's example (docs/theory.md, section 6): 48 filters of 7x7
(2-D DCT basis without DC, ||K|| = 1) on scikit-image's camera resized to 64x64, F = L1,
G = L2Ball(0.085 * 64).

Run:  python benchmarks/fixed_point.py [--tol 1e-4] [--max-trace-gb 4]  (tol 1e-4: about 2 minutes on 2 cores;
L = 1000 needs about 3.3 GB of trace and adjoints, hence max_trace_bytes = 4 GB)

Prints a table and the ratios; nothing is asserted. Peak memory is tracemalloc's peak
(numpy allocations included) of one call.
"""
import argparse

import numpy as np
from scipy.fft import idctn
from skimage import data, transform

from cpteach import backprop, chambolle_pock, fixed_point_gradient, implicit_gradient, operators, prox, solve
from cpteach.fixed_point import _measure


def dct_filters(size=7):
    """The size*size - 1 non-constant 2-D DCT-II basis functions as filters (c, size, size)."""
    basis = []
    for i in range(size):
        for j in range(size):
            if i == j == 0:
                continue
            coeffs = np.zeros((size, size))
            coeffs[i, j] = 1.0
            basis.append(idctn(coeffs, norm="ortho"))
    return np.array(basis)


def problem(n=64, noise_level=0.1, seed=0):
    y = transform.resize(data.camera().astype(float), (n, n), anti_aliasing=True)
    y = (y - y.min()) / (y.max() - y.min())
    x = y + noise_level * np.random.default_rng(seed).standard_normal(y.shape)
    K = operators.FilterBank(dct_filters(), (n, n))
    K = K.with_params(K.params / K.norm())
    return K, prox.L1(), prox.L2Ball(0.085 * n), x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-4, help="relative residual of solve and GMRES")
    parser.add_argument("--max-trace-gb", type=float, default=4.0, help="max_trace_bytes for the unrolled runs")
    parser.add_argument("--Ls", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    K, F, G, x, y = problem()
    tau = sigma = 0.99 / K.norm()
    kw = dict(tau=tau, sigma=sigma, tol=args.tol, max_iter=100000)
    print(f"problem: {K}, ||K|| = {K.norm():.3f}, F = {F}, G = {G}, tau = sigma = {tau:.3f}, tol = {args.tol:g}")

    sol, t_solve, m_solve = _measure(lambda: solve(K, F, G, x, **kw))
    fp, t_fp, m_fp = _measure(lambda: fixed_point_gradient(K, F, G, x, y, **kw))
    ig, t_ig, m_ig = _measure(lambda: implicit_gradient(K, F, G, x, y, **kw))
    ref = ig.grad_K

    def cos(g):
        return float(np.sum(g * ref) / (np.linalg.norm(g) * np.linalg.norm(ref)))

    rows = [("forward solve", t_solve, m_solve, np.nan, f"{sol.iterations} iterations, residual {sol.residual:.1e}")]
    for L in args.Ls:
        try:
            res, t, m = _measure(lambda: backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L,
                                                                 max_trace_bytes=args.max_trace_gb * 1e9), y))
        except ValueError as err:
            rows.append((f"unrolled L={L}", np.nan, np.nan, np.nan, f"skipped: {err}"))
            continue
        rows.append((f"unrolled L={L}", t, m, cos(res.grad_K), ""))
    rows.append(("fixed-point (one-step)", t_fp, m_fp, cos(fp.grad_K), "includes the solve"))
    rows.append(("implicit (GMRES)", t_ig, m_ig, 1.0,
                 f"includes the solve; GMRES {ig.gmres_iterations} iterations, residual {ig.gmres_residual:.1e}"))

    print(f"{'method':<24}{'time [s]':>10}{'peak [MB]':>11}{'cos to implicit':>17}  note")
    for name, t, m, c, note in rows:
        print(f"{name:<24}{t:>10.3f}{m / 1e6:>11.1f}{c:>17.4f}  {note}")
    print("ratios:")
    print(f"  implicit time / forward solve time        = {t_ig / t_solve:.2f} (forward solves to tol {args.tol:g})")
    print(f"  GMRES iterations / forward iterations     = {ig.gmres_iterations / sol.iterations:.2f}")
    print(f"  fixed-point time / forward solve time     = {t_fp / t_solve:.2f}")
    for name, t, m, _, _ in rows[1:-2]:
        if np.isfinite(t):
            print(f"  {name}: time / implicit = {t / t_ig:.2f}, peak memory / implicit = {m / m_ig:.2f}")


if __name__ == "__main__":
    main()
