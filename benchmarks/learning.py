"""Time per outer training step of each gradient method at the training size of the shipped run.

Run: python benchmarks/learning.py [--steps 3]. Prints seconds per step and the ratio to the
fixed-point gradient, side by side (12 patches of 40x40, 48 filters of 7x7, as in
cpteach.learning.SETTINGS). The first step of each run (cold start) is included.
"""
import argparse

from cpteach import images, learning


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    cfg = learning.SETTINGS
    y = images.training_patches(cfg["patches"], cfg["patch_size"], seed=cfg["patch_seed"])
    x = images.add_noise(y, learning.NOISE, seed=cfg["noise_seed"])
    runs = [("fixed_point", cfg["L"]), ("unrolled", 5), ("unrolled", 20), ("unrolled", cfg["L"]), ("implicit", cfg["L"])]
    times = {}
    for method, L in runs:
        run = learning.train_filters(y, x, 0.09, method=method, steps=args.steps, L=L,
                                     learning_rate=cfg["learning_rate"], progress=False)
        times[f"{method} (L={L})"] = run.seconds / args.steps
    reference = times[f"fixed_point (L={cfg['L']})"]
    print(f"{'method':<22}{'s / step':>10}{'vs fixed_point':>16}")
    for name, seconds in times.items():
        print(f"{name:<22}{seconds:>10.2f}{seconds / reference:>15.2f}x")


if __name__ == "__main__":
    main()
