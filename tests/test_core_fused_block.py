"""Our BatchNorm + max-pool + ReLU kernel: PyTorch's three kernels' values, first and second derivatives, in float64."""

import pytest
import torch
from torch.nn import functional as F

from core.algorithms import fused_block

BUILT = fused_block.ready(wait=True)
pytestmark = pytest.mark.skipif(not BUILT, reason=f"the kernel is not built here: {fused_block.unavailable_reason()}")


def _reference(x, scale, shift):
    return F.relu(F.max_pool2d(F.batch_norm(x, None, None, scale, shift, training=True, eps=1e-5), 2))


def _leaves(x, scale, shift):
    """The kernel's layout (channels-last), each input a leaf that collects its gradient."""
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    return x, scale.clone().requires_grad_(), shift.clone().requires_grad_()


def _assert_gradients_close(have, want, names):
    for h, w, name in zip(have, want, names, strict=True):
        torch.testing.assert_close(h, w, rtol=1e-10, atol=1e-12 * max(1.0, w.abs().max().item()), msg=name)


def _compare(x, scale, shift):
    x, scale, shift = _leaves(x, scale, shift)
    want, have = _reference(x, scale, shift), fused_block.batch_norm_pool_relu(x, scale, shift, 1e-5)
    assert have.shape == want.shape and have.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(have, want, rtol=1e-10, atol=1e-12)
    upstream = torch.randn_like(want)
    inputs = (x, scale, shift)
    _assert_gradients_close(torch.autograd.grad(have, inputs, upstream), torch.autograd.grad(want, inputs, upstream),
                            ("x", "scale", "shift"))  # fmt: skip


def _second_derivatives(block, x, scale, shift, upstream):
    """The gradient of a function of the backward's outputs (as MAML's meta-gradient takes it) w.r.t. x,
    scale and the upstream gradient."""
    grad_x, grad_scale, grad_shift = torch.autograd.grad(block(x, scale, shift), (x, scale, shift), upstream,
                                                         create_graph=True)  # fmt: skip
    weights = torch.linspace(-1, 2, scale.numel(), dtype=x.dtype)
    loss = (
        (grad_x * torch.sin(x.detach())).sum()
        + (grad_x**2).sum()
        + (grad_scale * weights).sum()
        + (grad_shift**2).sum()
    )
    return torch.autograd.grad(loss, (x, scale, upstream))


def _compare_second(x, scale, shift):
    x, scale, shift = _leaves(x, scale, shift)
    upstream = torch.randn(x.shape[0], x.shape[1], x.shape[2] // 2, x.shape[3] // 2, dtype=x.dtype, requires_grad=True)
    want = _second_derivatives(_reference, x, scale, shift, upstream)
    have = _second_derivatives(lambda *a: fused_block.batch_norm_pool_relu(*a, 1e-5), x, scale, shift, upstream)
    _assert_gradients_close(have, want, ("x", "scale", "upstream"))


SHAPES = [(5, 8, 28, 28), (4, 6, 7, 7), (3, 4, 3, 3), (2, 3, 5, 6)]


def _inputs(shape):
    torch.manual_seed(0)
    channels = shape[1]
    scale = torch.randn(channels, dtype=torch.float64)
    scale[0] = -abs(scale[0])  # a negative scale: the pool then takes the smallest input
    return torch.randn(*shape, dtype=torch.float64), scale, torch.randn(channels, dtype=torch.float64)


def _tied():
    x = torch.zeros(2, 3, 6, 6, dtype=torch.float64)  # after a ReLU, whole windows are equal
    x[0, :, 0, 0] = 1.0
    return x, torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64), torch.tensor([0.3, 0.3, -0.1]).double()


@pytest.mark.parametrize("shape", SHAPES)
def test_values_and_gradients_equal_pytorch_s_including_odd_sizes_and_negative_scales(shape):
    _compare(*_inputs(shape))


def test_ties_send_the_gradient_to_the_first_largest_value_as_pytorch_does():
    _compare(*_tied())


@pytest.mark.parametrize("shape", SHAPES)
def test_second_derivatives_equal_pytorch_s_for_maml_s_second_order(shape):
    _compare_second(*_inputs(shape))


def test_second_derivatives_with_ties_equal_pytorch_s():
    _compare_second(*_tied())


def test_the_second_derivative_passes_a_numerical_check():
    torch.manual_seed(2)
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_()
    scale = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    shift = torch.tensor([0.2, 0.1], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda *a: fused_block.batch_norm_pool_relu(*a, 1e-5), (x, scale, shift))


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
