"""Our BatchNorm + max-pool + ReLU kernel: PyTorch's three kernels' values and first derivatives, in float64."""

import pytest
import torch
from torch.nn import functional as F

from core.algorithms import fused_block

BUILT = fused_block.ready(wait=True)
pytestmark = pytest.mark.skipif(not BUILT, reason=f"the kernel is not built here: {fused_block.unavailable_reason()}")


def _reference(x, scale, shift):
    return F.relu(F.max_pool2d(F.batch_norm(x, None, None, scale, shift, training=True, eps=1e-5), 2))


def _compare(x, scale, shift):
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    scale, shift = scale.clone().requires_grad_(), shift.clone().requires_grad_()
    want, have = _reference(x, scale, shift), fused_block.batch_norm_pool_relu(x, scale, shift, 1e-5)
    assert have.shape == want.shape and have.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(have, want, rtol=1e-10, atol=1e-12)
    upstream = torch.randn_like(want)
    for w, h, name in zip(torch.autograd.grad(want, (x, scale, shift), upstream),
                          torch.autograd.grad(have, (x, scale, shift), upstream), ("x", "scale", "shift")):  # fmt: skip
        torch.testing.assert_close(h, w, rtol=1e-10, atol=1e-12 * max(1.0, w.abs().max().item()), msg=name)


@pytest.mark.parametrize("shape", [(5, 8, 28, 28), (4, 6, 7, 7), (3, 4, 3, 3), (2, 3, 5, 6)])
def test_values_and_gradients_equal_pytorch_s_including_odd_sizes_and_negative_scales(shape):
    torch.manual_seed(0)
    channels = shape[1]
    scale = torch.randn(channels, dtype=torch.float64)
    scale[0] = -abs(scale[0])  # a negative scale: the pool then takes the smallest input
    _compare(torch.randn(*shape, dtype=torch.float64), scale, torch.randn(channels, dtype=torch.float64))


def test_ties_send_the_gradient_to_the_first_largest_value_as_pytorch_does():
    x = torch.zeros(2, 3, 6, 6, dtype=torch.float64)  # after a ReLU, whole windows are equal
    x[0, :, 0, 0] = 1.0
    _compare(x, torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64), torch.tensor([0.3, 0.3, -0.1]).double())


def test_float32_agrees_to_rounding():
    torch.manual_seed(1)
    x = torch.randn(20, 64, 28, 28).contiguous(memory_format=torch.channels_last)
    scale, shift = torch.rand(64) + 0.5, torch.randn(64)
    torch.testing.assert_close(fused_block.batch_norm_pool_relu(x, scale, shift, 1e-5), _reference(x, scale, shift),
                               rtol=1e-5, atol=1e-5)  # fmt: skip


def test_it_is_used_only_where_it_fits_and_a_switch_turns_it_off(monkeypatch):
    x = torch.randn(2, 4, 6, 6)
    assert not fused_block.fits(x)  # not channels-last
    assert fused_block.fits(x.contiguous(memory_format=torch.channels_last))
    assert not fused_block.fits(x.contiguous(memory_format=torch.channels_last).half())
    monkeypatch.setenv(fused_block.DISABLE, "1")
    assert not fused_block.fits(x.contiguous(memory_format=torch.channels_last))
    assert fused_block.DISABLE in fused_block.unavailable_reason()
