"""Time per outer training step of each gradient method at the training size of the shipped run.

Run: python benchmarks/learning.py [--steps 3]. Prints seconds per step and the ratio to the
fixed-point gradient, side by side (the training data of cpteach.reproduce, 48 filters of 7x7),
each in one process, then the shipped method with every core (``workers=os.cpu_count()``; the
filters are identical, only the time changes). The first step of each run (cold start) is included.
"""
import argparse
import os

from cpteach import learning, reproduce


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--patches", type=int, default=None, help="use only the first patches (default: all)")
    args = parser.parse_args(argv)
    cfg = reproduce.SETTINGS
    y, x = reproduce.training_data()
    y, x = y[:args.patches], x[:args.patches]
    s = reproduce.load_shipped_run().noise_level
    cores = os.cpu_count() or 1
    runs = [("fixed_point", cfg.L, 1), ("unrolled", 5, 1), ("unrolled", 20, 1), ("unrolled", cfg.L, 1),
            ("implicit", cfg.L, 1), (cfg.method, cfg.L, cores)]
    times = {}
    for method, L, workers in runs:
        run = learning.train_filters(y, x, s, method=method, steps=args.steps, L=L,
                                     learning_rate=cfg.learning_rate, progress=False, workers=workers)
        times[f"{method} (L={L}, {workers} proc.)"] = run.seconds / args.steps
    reference = times[f"fixed_point (L={cfg.L}, 1 proc.)"]
    print(f"{len(y)} patches of {cfg.patch_size}x{cfg.patch_size}, s = {s}")
    print(f"{'method':<32}{'s / step':>10}{'vs fixed_point':>16}")
    for name, seconds in times.items():
        print(f"{name:<32}{seconds:>10.2f}{seconds / reference:>15.2f}x")


if __name__ == "__main__":
    main()
