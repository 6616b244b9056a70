"""Photometric augmentation of one crop in TensorFlow, driven by parameters drawn in NumPy.

The random draws happen in `data_pipelines.sampling` (stateless, keyed by the example
index); these ops are deterministic functions of the crop and those parameters:
brightness (gain), contrast (about the crop mean), saturation (about the luma),
grayscale, Gaussian blur (separable, 7 taps).
"""

from __future__ import annotations

import tensorflow as tf

BLUR_RADIUS = 3  # taps on each side of the Gaussian kernel


def gaussian_blur(image: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Separable Gaussian blur of `[H, W, C]` float32 (edges replicated)."""
    x = tf.range(-BLUR_RADIUS, BLUR_RADIUS + 1, dtype=tf.float32)
    k = tf.exp(-0.5 * tf.square(x / tf.maximum(sigma, 1e-3)))
    k = k / tf.reduce_sum(k)  # [2R+1]
    channels = tf.shape(image)[-1]
    padded = tf.pad(
        image[None], [[0, 0], [BLUR_RADIUS] * 2, [BLUR_RADIUS] * 2, [0, 0]], "SYMMETRIC"
    )
    kx = tf.tile(tf.reshape(k, [1, -1, 1, 1]), [1, 1, channels, 1])  # [1, K, C, 1]
    ky = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), [1, 1, channels, 1])  # [K, 1, C, 1]
    out = tf.nn.depthwise_conv2d(padded, kx, [1, 1, 1, 1], "VALID")
    out = tf.nn.depthwise_conv2d(out, ky, [1, 1, 1, 1], "VALID")
    return out[0]


def photometric(image: tf.Tensor, params: tf.Tensor, gray: tf.Tensor) -> tf.Tensor:
    """Colour jitter / grayscale / blur of a float32 `[H, W, 3]` crop in 0..255.

    `params` `[4]`: brightness gain, contrast factor, saturation factor, blur sigma
    (0 = no blur); `gray` scalar bool. Returns float32 clipped to 0..255.
    """
    brightness, contrast, saturation, sigma = params[0], params[1], params[2], params[3]
    x = image * brightness
    mean = tf.reduce_mean(x)
    x = (x - mean) * contrast + mean
    luma = tf.image.rgb_to_grayscale(x)  # [H, W, 1]
    x = luma + (x - luma) * saturation
    x = tf.where(gray, tf.tile(tf.image.rgb_to_grayscale(x), [1, 1, 3]), x)
    x = tf.cond(sigma > 0, lambda: gaussian_blur(x, sigma), lambda: x)
    return tf.clip_by_value(x, 0.0, 255.0)
