"""Context crops: the JAX op against the NumPy reference, geometry round trips."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import crops


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    "center,side,out",
    [
        ((26.5, 18.5), 20.0, 16),  # inside, upsampled
        ((3.2, 4.7), 30.0, 15),  # over the top-left corner: mean padding
        ((50.0, 35.0), 80.0, 17),  # larger than the image, downsampled
        ((-30.0, 10.0), 10.0, 9),  # entirely outside: all fill
    ],
)
def test_crop_jax_matches_numpy_reference(image, center, side, out):
    ref = crops.crop_numpy(image, center, side, out)
    got = jax.jit(crops.crop_jax, static_argnums=3)(
        jnp.asarray(image), jnp.asarray(center, jnp.float32), side, out
    )
    assert got.shape == (out, out, 3)
    np.testing.assert_allclose(got, ref, atol=2e-3, rtol=1e-4)


def test_crop_of_constant_region_is_exact():
    img = np.full((10, 10, 3), 7, np.uint8)
    img[:, :, 1] = 9
    ref = crops.crop_numpy(img, (5.0, 5.0), 30.0, 8)  # fill = mean = the constant
    np.testing.assert_allclose(ref[..., 0], 7.0)
    np.testing.assert_allclose(ref[..., 1], 9.0)


def test_identity_crop_reproduces_pixels(image):
    """side = out_size centred on the image samples exactly the pixel centres."""
    h, w = image.shape[:2]
    ref = crops.crop_numpy(image, (w / 2, h / 2), float(h), h)
    np.testing.assert_allclose(ref, image[:, (w - h) // 2 : (w - h) // 2 + h], atol=1e-4)


def test_custom_fill(image):
    got = crops.crop_jax(jnp.asarray(image), jnp.array([-100.0, -100.0]), 10.0, 4, fill=0.0)
    np.testing.assert_allclose(got, 0.0)


def test_box_maps_into_and_out_of_the_crop():
    box = np.array([40.0, 30.0, 20.0, 10.0])
    center = box[:2] + box[2:] / 2
    s_z = crops.context_side(box[2], box[3])
    assert s_z == pytest.approx(np.sqrt(35 * 25))
    in_crop = crops.box_to_crop(box, center, s_z, 127)
    # The target is centred in the crop and scaled by 127 / s_z.
    np.testing.assert_allclose(in_crop[:2] + in_crop[2:] / 2, [63.5, 63.5])
    np.testing.assert_allclose(in_crop[2:], box[2:] * 127 / s_z)
    np.testing.assert_allclose(crops.crop_to_box(in_crop, center, s_z, 127), box)
