"""The shipped experiment (cpteach.reproduce): the shipped files load without pickle, have the documented
shapes and are what the code recomputes; the settings; the command line."""
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from cpteach import images, learning, operators, reproduce
from cpteach.denoising import denoise


# --- the shipped files: they load, have the documented shapes, and match what the code recomputes

def test_shipped_files_load_without_pickle():
    for name in (reproduce.SHIPPED_FILE, reproduce.HELD_OUT_FILE, reproduce.CURVES_FILE):
        with np.load(reproduce._data_path(name), allow_pickle=False) as data:
            assert all(data[key].dtype != object for key in data.files)


def test_shipped_run_is_consistent():
    run = reproduce.load_shipped_run()
    assert run.filters.shape == (48, 7, 7) and np.array_equal(run.filters, reproduce.pretrained_filters())
    np.testing.assert_allclose(run.filters.mean(axis=(1, 2)), 0, atol=1e-12)
    assert operators.FilterBank(run.filters, (40, 40)).norm() == pytest.approx(1.0, rel=1e-9)
    settings = json.loads(run.settings)
    for key in ("patches", "patch_size", "patch_seed", "noise_seed", "method", "L", "learning_rate", "steps"):
        assert settings[key] == getattr(reproduce.SETTINGS, key)
    assert run.loss.shape == run.psnr.shape == (reproduce.SETTINGS.steps,)
    assert run.train_psnr_grid.shape == (3, len(reproduce.S_GRID))
    best = [reproduce.S_GRID[i] for i in np.argmax(run.train_psnr_grid, axis=1)]       # each model's s
    assert best == [run.s_tv, run.s_dct, run.s_learned] and run.noise_level == run.s_dct


def test_shipped_held_out_evaluation_is_what_the_code_recomputes():
    run, ev = reproduce.load_shipped_run(), reproduce.load_held_out()
    cfg = reproduce.SETTINGS
    assert ev.models == ("noisy", "TV", "DCT start", "learned") and ev.test_names == images.TEST_IMAGES
    assert ev.psnr.shape == (len(cfg.test_scales), 4, len(cfg.test_seeds), len(images.TEST_IMAGES))
    assert ev.seeds.tolist() == list(cfg.test_seeds) and ev.eval_L == cfg.eval_L
    for scale in ev.scales:                                   # the noisy column, everywhere
        y = images.held_out_images(ev.test_size, scale=int(scale))
        for k, seed in enumerate(ev.seeds):
            np.testing.assert_allclose(ev.of("noisy", scale)[k], images.psnr(y, images.add_noise(y, 0.1, int(seed))))
    y = images.held_out_images(ev.test_size)                  # TV on every image, and one learned solve
    x = images.add_noise(y, ev.noise_std, seed=int(ev.seeds[-1]))
    tv = [images.psnr(a, denoise(b, operators.FiniteDifference(b.shape), run.s_tv, L=ev.eval_L).y_hat)
          for a, b in zip(y, x)]
    np.testing.assert_allclose(ev.of("TV")[-1], tv, atol=1e-4)
    learned = denoise(x[3], run.filters, run.s_learned, L=ev.eval_L).y_hat
    assert ev.of("learned")[-1, 3] == pytest.approx(images.psnr(y[3], learned), abs=1e-4)


def test_shipped_gradient_curves_are_what_the_code_recomputes():
    run, curves = reproduce.load_shipped_run(), reproduce.load_gradient_curves()
    cfg = reproduce.SETTINGS
    assert curves.names == tuple(reproduce.curve_name(method, L) for method, L in cfg.curve_methods)
    assert curves.names == ("fixed_point", "unrolled:5", "unrolled:20", "unrolled:60", "implicit")   # notebook 05
    assert curves.loss.shape == curves.psnr.shape == (len(cfg.curve_methods), cfg.curve_steps)
    assert cfg.curve_steps >= 60                              # long enough to see a method degrade
    shipped_row = curves.names.index(reproduce.curve_name(cfg.method, cfg.L))
    np.testing.assert_array_equal(curves.psnr[shipped_row], run.psnr[:cfg.curve_steps])
    np.testing.assert_array_equal(curves.loss[shipped_row], run.loss[:cfg.curve_steps])
    y, x = reproduce.training_data()         # the first steps of the two cheapest methods (the loss at x^L)
    for (method, L), steps in ((("unrolled", 5), 2), (("fixed_point", cfg.L), 1)):
        row = curves.names.index(reproduce.curve_name(method, L))
        again = learning.train_filters(y, x, run.noise_level, method=method, steps=steps, L=L,
                                       learning_rate=cfg.learning_rate, progress=False)
        np.testing.assert_allclose(again.loss, curves.loss[row, :steps], rtol=1e-9)
        np.testing.assert_allclose(again.psnr, curves.psnr[row, :steps], atol=1e-6)


def test_settings_are_frozen_and_name_each_curve_by_method_and_depth():
    with pytest.raises(dataclasses.FrozenInstanceError):
        reproduce.SETTINGS.L = 30
    assert reproduce.curve_name("unrolled", 20) == "unrolled:20" and reproduce.curve_name("implicit", 60) == "implicit"
    assert all(isinstance(L, int) and method in learning.GRADIENT_METHODS for method, L in reproduce.SETTINGS.curve_methods)


def test_the_one_command_line_is_reproduce():
    out = subprocess.run([sys.executable, "-m", "cpteach.reproduce", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--reproduce" in out and "--evaluate" in out and "--curves" in out


def test_across_images_t_matches_scipy_and_the_sign_flip_p_its_counting_argument():
    from scipy import stats

    rng = np.random.default_rng(0)
    d = rng.normal(0.3, 0.5, size=(5, 7))                       # (seeds, images)
    r = reproduce.across_images(d)
    assert np.allclose(r.per_image, d.mean(axis=0))
    t_ref = stats.ttest_1samp(d.mean(axis=0), 0.0)
    assert np.isclose(r.t, t_ref.statistic) and r.dof == 6
    assert np.isclose(r.standard_error, stats.sem(d.mean(axis=0)))
    # all images of one sign: only the observed pattern and its negative reach |mean|, p = 2 / 2^m
    assert reproduce.across_images(np.abs(d) + 0.01).p_sign_flip == 2 / 2 ** 7
    # a difference and its negative: every pattern's |mean| is 0 or 1 >= 0, so p = 1
    assert reproduce.across_images(np.array([[1.0, -1.0]])).p_sign_flip == 1.0
    # |±10 ± 0.1 ± 0.1| >= |10 + 0.1 - 0.1| = 10 for 3 of the 4 patterns of each sign of 10: p = 6/8
    assert reproduce.across_images(np.array([[10.0, 0.1, -0.1]])).p_sign_flip == 0.75
    assert "mean ± SE over 7 images" in str(r)


def test_across_images_rejects_a_single_image_and_nan():
    with pytest.raises(ValueError, match="at least 2 images"):
        reproduce.across_images(np.ones((5, 1)))
    with pytest.raises(ValueError, match="finite"):
        reproduce.across_images(np.array([[np.nan, 1.0]]))
