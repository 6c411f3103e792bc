import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from cpteach import images, widgets


def test_denoising_dashboard_updates_the_figure():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=24, L=10)
    shown = board.figure.axes[3].images[0]                  # the noisy image
    before = np.array(shown.get_array()).copy()
    board.sliders["noise_std"].value = 0.2
    after = np.array(shown.get_array())
    assert not np.allclose(before, after)
    assert np.std(after - board.figure.axes[0].images[0].get_array()) > 0.15   # the noisy panel has noise 0.2
    board.sliders["image"].value = images.TEST_IMAGES[1]
    assert "dB" in board.figure.axes[2].get_title()
    assert board.idle.pending == len(widgets.NOISE_STDS)     # a new image queues its levels anew


def test_denoising_images_share_the_ground_truths_scale_and_show_the_errors():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=24, L=10, image="cell")
    y = images.held_out_images(24)[images.TEST_IMAGES.index("cell")]
    shown = {ax.get_title().split(":")[0]: ax.images[0] for ax in board.figure.axes if ax.images}
    for title in ("ground truth y", "TV", "learned filters", "noisy x"):
        assert shown[title].norm.vmin == y.min() and shown[title].norm.vmax == y.max()
    run = widgets.denoising_run(y, images.dct_filters(3), 0.1, L=10)
    np.testing.assert_allclose(shown["|learned − y|"].get_array(), np.abs(run.learned - y))
    assert shown["|TV − y|"].norm.vmax == shown["|learned − y|"].norm.vmax > 0


def test_denoising_levels_are_queued_as_idle_work():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=16, L=5)
    assert board.idle.pending == len(widgets.NOISE_STDS)     # no event loop here: nothing ran by itself
    board.idle.drain()                                       # what the kernel does while nobody drags
    assert board.progress.value == len(widgets.NOISE_STDS) and board.progress.layout.display == "none"
    y = images.held_out_images(16)[0]
    expected = widgets.denoising_run(y, images.dct_filters(3), 0.06, L=5)
    board.sliders["noise_std"].value = 0.06
    np.testing.assert_allclose(board.figure.axes[2].images[0].get_array(), expected.learned)
    assert board.last_frame_cached                           # its frame was drawn in idle time, too
    sent = bytes(board.image.value)
    board.redraw_all()
    assert bytes(board.image.value) == sent                  # the frame a full redraw gives


SHUTDOWN = "from cpteach import widgets; board = widgets.denoising_dashboard()"


def test_a_process_with_a_dashboard_exits_cleanly():
    # no background thread may still be inside numpy when the interpreter finalizes (was exit code 134,
    # "terminate called without an active exception", in about one run of three)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for _ in range(6):
        done = subprocess.run([sys.executable, "-c", SHUTDOWN], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-500:]
