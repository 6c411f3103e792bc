"""Forward vs backward cost of the unrolled gradient, and the size of the trace.

Problem (issue 2): 48 filters of 7x7 (2-D DCT basis without DC, scaled to ||K|| = 1),
a 64x64 crop of scikit-image's camera with noise 0.1, F = L1, G = L2Ball, L = 100.
Prints times measured side by side in one run and their ratios; never fails on time.
Where PyTorch is installed, the same unrolled loop under torch autograd (float64, one
thread) is timed for comparison.

    python benchmarks/gradient.py
"""
import time

import numpy as np

from cpteach import backprop, chambolle_pock, default_steps, images, operators, prox


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def torch_gradient(filters, x, y, tau, sigma, theta, L, radius):
    import torch

    torch.set_num_threads(1)
    w = torch.tensor(filters, dtype=torch.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    c, k1, k2 = filters.shape
    pad = (k2 // 2, k2 // 2, k1 // 2, k1 // 2)

    def apply(u):  # periodic cross-correlation, as operators.FilterBank
        up = torch.nn.functional.pad(u[None, None], pad, mode="circular")
        return torch.nn.functional.conv2d(up, w[:, None])[0]

    def adjoint(v):
        vp = torch.nn.functional.pad(v[None], pad, mode="circular")
        return torch.nn.functional.conv_transpose2d(vp, w[:, None])[0, 0][k1 - 1:-(k1 - 1), k2 - 1:-(k2 - 1)]

    x_l, x_bar, xi = xt, xt, torch.zeros((c,) + x.shape, dtype=torch.float64)
    for _ in range(L):
        xi = torch.clamp(xi + sigma * apply(x_bar), -1, 1)
        v = x_l - tau * adjoint(xi) - xt
        x_new = v * torch.clamp(radius / torch.linalg.norm(v), max=1.0) + xt
        x_bar, x_l = x_new + theta * (x_new - x_l), x_new
    loss = 0.5 * torch.sum((x_l - yt) ** 2)
    loss.backward()
    return w.grad.numpy()


def main(L=100, size=64, noise_level=0.1, repeat=10):
    y = images.load_image("camera")[64:64 + size, 64:64 + size]
    x = images.add_noise(y, noise_level, seed=0)
    filters = images.dct_filters(7)
    filters /= operators.FilterBank(filters, y.shape).norm()
    K = operators.FilterBank(filters, y.shape)
    F, G = prox.L1(), prox.L2Ball(0.85 * noise_level * size)
    tau, sigma = default_steps(K)

    t_fwd = t_bwd = np.inf
    for _ in range(repeat):  # interleaved, so that both see the same machine load
        t, trace = best_of(lambda: chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L), 1)
        t_fwd = min(t_fwd, t)
        t, res = best_of(lambda: backprop(trace, y), 1)
        t_bwd = min(t_bwd, t)
    k, n = K.size_out, K.size_in
    per_iteration = trace.nbytes / 8 / L
    print(f"48 filters 7x7, {size}x{size} image, F = L1, G = L2Ball, L = {L} (best of {repeat})")
    print(f"  forward  chambolle_pock : {1e3 * t_fwd:8.1f} ms")
    print(f"  backward backprop       : {1e3 * t_bwd:8.1f} ms")
    print(f"  backward / forward      : {t_bwd / t_fwd:8.2f}   (target <= 1.5)")
    print(f"  trace floats/iteration  : {per_iteration:8.0f}   minimal k + 2n = {k + 2 * n}"
          f"   ratio {per_iteration / (k + 2 * n):.3f} (target <= 1.25)")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("  torch autograd          : PyTorch not installed, comparison skipped")
        return
    radius = 0.85 * noise_level * size
    t_torch, g = best_of(lambda: torch_gradient(filters, x, y, tau, sigma, 1.0, L, radius), repeat)
    err = np.linalg.norm(g - res.grad_K) / np.linalg.norm(res.grad_K)
    print(f"  torch autograd fwd+bwd  : {1e3 * t_torch:8.1f} ms   (relative difference of grad_K {err:.1e})")
    print(f"  torch / numpy (fwd+bwd) : {t_torch / (t_fwd + t_bwd):8.2f}")


if __name__ == "__main__":
    main()
