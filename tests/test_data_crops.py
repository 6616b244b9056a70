"""The TF crop op (tf.image.crop_and_resize + border handling) equals the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from data_pipelines import augment
from data_pipelines.crop_ops import crop_tf, mean_colour
from dsiam_jax import crops

CASES = [
    ((26.5, 18.5), 20.0, 16),  # inside, upsampled
    ((3.2, 4.7), 30.0, 15),  # over the top-left corner: mean padding and blended border
    ((50.0, 35.0), 80.0, 17),  # larger than the image, downsampled
    ((-30.0, 10.0), 10.0, 9),  # entirely outside: all fill
    ((53.3, 37.0), 7.0, 11),  # on the bottom-right corner
]


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)


@pytest.mark.parametrize("center,side,out", CASES)
def test_crop_tf_matches_numpy_reference_eagerly(image, center, side, out):
    ref = crops.crop_numpy(image, center, side, out)
    got = crop_tf(image, tf.constant(center), side, out).numpy()
    assert got.shape == (out, out, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, atol=2e-3)


def test_crop_tf_matches_reference_inside_tf_data_map(image):
    centers = np.array([c for c, _, _ in CASES], np.float32)
    sides = np.array([s for _, s, _ in CASES], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((centers, sides))
    ds = ds.map(lambda c, s: crop_tf(tf.constant(image), c, s, 13), num_parallel_calls=2)
    for got, (center, side, _) in zip(ds.as_numpy_iterator(), CASES):
        np.testing.assert_allclose(got, crops.crop_numpy(image, center, side, 13), atol=2e-3)


def test_crop_tf_custom_fill_and_float_input(image):
    got = crop_tf(image.astype(np.float32), tf.constant([-100.0, -100.0]), 10.0, 4, fill=[1, 2, 3])
    np.testing.assert_allclose(got.numpy(), np.broadcast_to([1.0, 2.0, 3.0], (4, 4, 3)))


def test_photometric_identity_and_gray():
    x = tf.constant(np.random.default_rng(1).uniform(0, 255, (9, 9, 3)), tf.float32)
    same = augment.photometric(x, tf.constant([1.0, 1.0, 1.0, 0.0]), tf.constant(False))
    np.testing.assert_allclose(same.numpy(), x.numpy(), atol=1e-3)
    gray = augment.photometric(x, tf.constant([1.0, 1.0, 1.0, 0.0]), tf.constant(True)).numpy()
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])
    luma = x.numpy() @ np.array([0.2989, 0.587, 0.114])
    np.testing.assert_allclose(gray[..., 1], luma, atol=0.05)
    # Blur keeps a constant image constant (normalised kernel, symmetric edges).
    flat = augment.gaussian_blur(tf.fill([7, 7, 3], 10.0), tf.constant(1.0))
    np.testing.assert_allclose(flat.numpy(), 10.0, atol=1e-4)


@pytest.mark.parametrize("height,width", [(37, 53), (1080, 1920)])
def test_mean_colour_of_uint8_frames_is_the_exact_mean(height, width):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    frame[: height // 2] = 255  # large sums: int32 column sums must not overflow
    exact = frame.reshape(-1, 3).astype(np.float64).mean(axis=0)
    got = mean_colour(tf.constant(frame)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, exact, rtol=1e-7)  # float32 rounding of the result only
    as_float = mean_colour(tf.constant(frame.astype(np.float32))).numpy()
    np.testing.assert_allclose(as_float, exact, rtol=1e-6)
