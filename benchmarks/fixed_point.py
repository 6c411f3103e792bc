"""Time and peak memory of unrolled backprop (L = 10, 100, 1000) against the fixed-point and
implicit gradients on the poster's example (docs/theory.md, section 6):
``cpteach.problems.poster_example()``, 48 filters of 7x7 (2-D DCT basis without DC, ||K|| = 1)
on a 64x64 crop of scikit-image's camera, F = L1, G = L2Ball(0.085 * 64), with its step sizes.

Run:  python benchmarks/fixed_point.py [--tol 1e-4] [--max-trace-gb 4] [--Ls 10 100 1000]
(tol 1e-4: a few minutes on 2 busy cores; L = 1000 needs about 3.3 GB of trace and adjoints,
hence the default --max-trace-gb 4; an L whose trace would not fit is left out and said so).

Prints a table and the ratios; nothing is asserted. Times and peak memory come from
``cpteach.compare_gradients`` (wall-clock seconds, tracemalloc peak of one call; the one-step
and implicit gradients include their forward solve); the forward solve alone is timed here.
"""
import argparse
import time

from cpteach import compare_gradients, problems, solve


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-4, help="relative residual of solve and GMRES")
    parser.add_argument("--max-trace-gb", type=float, default=4.0, help="max_trace_bytes for the unrolled runs")
    parser.add_argument("--Ls", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--size", type=int, default=64, help="side of the poster example's crop")
    args = parser.parse_args(argv)
    p = problems.poster_example(size=args.size)
    K, F, G, x, y, tau, sigma, theta = p.K, p.F, p.G, p.x, p.y, p.tau, p.sigma, p.theta
    print(f"problem: {p.name}; {K}, ||K|| = {K.norm():.3f}, F = {F}, G = {G}, "
          f"tau = {tau:.4g}, sigma = {sigma:.4g}, theta = {theta:g}, tol = {args.tol:g}")

    max_bytes = args.max_trace_gb * 1e9
    trace_bytes = {L: 8 * (L * (K.size_out + K.size_in) + (L + 1) * K.size_in) for L in args.Ls}  # z_D, z_P, x
    Ls = [L for L in args.Ls if trace_bytes[L] <= max_bytes]
    t0 = time.perf_counter()
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=args.tol, max_iter=100000)
    t_solve = time.perf_counter() - t0
    c = compare_gradients(K, F, G, x, y, Ls, tau=tau, sigma=sigma, theta=theta, tol=args.tol, max_iter=100000,
                          max_trace_bytes=max_bytes)

    rows = [("forward solve", t_solve, float("nan"), float("nan"),
             f"{sol.iterations} iterations, residual {sol.residual:.1e}")]
    rows += [(f"unrolled L={L}", t, m, cos, "")
             for L, t, m, cos in zip(c.Ls, c.unrolled_time, c.unrolled_peak_bytes, c.unrolled_cosine)]
    rows.append(("fixed-point (one-step)", c.one_step_time, c.one_step_peak_bytes, c.one_step_cosine,
                 "includes the solve"))
    rows.append(("implicit (GMRES)", c.implicit_time, c.implicit_peak_bytes, 1.0,
                 f"includes the solve; GMRES {c.implicit_gmres_iterations} iterations"))
    print(f"{'method':<24}{'time [s]':>10}{'peak [MB]':>11}{'cos to implicit':>17}  note")
    for name, t, m, cos, note in rows:
        print(f"{name:<24}{t:>10.3f}{m / 1e6:>11.1f}{cos:>17.4f}  {note}")
    for L in sorted(set(args.Ls) - set(Ls)):
        print(f"unrolled L={L}: left out, its trace needs {trace_bytes[L] / 1e9:.1f} GB > --max-trace-gb")
    print("ratios:")
    print(f"  implicit time / forward solve time        = {c.implicit_time / t_solve:.2f} "
          f"(forward solves to tol {args.tol:g})")
    print(f"  GMRES iterations / forward iterations     = {c.implicit_gmres_iterations / sol.iterations:.2f}")
    print(f"  fixed-point time / forward solve time     = {c.one_step_time / t_solve:.2f}")
    for L, t, m in zip(c.Ls, c.unrolled_time, c.unrolled_peak_bytes):
        print(f"  unrolled L={L}: time / implicit = {t / c.implicit_time:.2f}, "
              f"peak memory / implicit = {m / c.implicit_peak_bytes:.2f}")


if __name__ == "__main__":
    main()
