"""Embedding networks shared by the algorithms."""

from __future__ import annotations

import torch
from torch import nn


def conv_block(
    in_channels: int,
    out_channels: int,
    pool: bool = True,
    running_stats: bool = True,
    padding: int = 1,
    stride: int = 1,
) -> nn.Sequential:
    """3x3 convolution, BatchNorm, ReLU and (optionally) 2x2 max-pooling.

    ``running_stats=False`` makes BatchNorm always use the current batch's statistics,
    in training and evaluation alike (as MAML's reference implementation does).
    """
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=padding, stride=stride),
        nn.BatchNorm2d(out_channels, track_running_stats=running_stats),
        nn.ReLU(),
    ]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Conv4(nn.Module):
    """The four-block convolutional embedding of Vinyals et al. (2016), used by Snell et al.
    (2017) and Finn et al. (2017): four blocks of 64 3x3 filters, BatchNorm, ReLU and 2x2
    max-pooling, flattened. A 28x28 image becomes 64 numbers, an 84x84 one 1600.
    """

    first_stride = 1

    def __init__(self, in_channels: int = 1, hidden: int = 64, running_stats: bool = True) -> None:
        super().__init__()
        self.in_channels, self.hidden = in_channels, hidden
        self.blocks = nn.Sequential(
            conv_block(in_channels, hidden, running_stats=running_stats, stride=self.first_stride),
            *(conv_block(hidden, hidden, running_stats=running_stats) for _ in range(3)),
        )
        self.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """float [N, C, H, W] -> float [N, D] embeddings."""
        # channels-last convolutions measured 1.35x faster on this CPU (benchmarks/protonet_omniglot.py)
        return self.blocks(images.contiguous(memory_format=torch.channels_last)).flatten(1)

    @classmethod
    def output_dim(cls, image_size: int, hidden: int = 64) -> int:
        """Embedding size for square inputs of ``image_size`` pixels."""
        side = (image_size - 1) // cls.first_stride + 1  # a 3x3 convolution padded by 1
        for _ in range(4):
            side //= 2
        return hidden * side * side


class Conv4Stride2(Conv4):
    """Conv-4 whose first convolution steps two pixels: a 56x56 image becomes the 28x28 map a
    28x28 image gives Conv-4, at about Conv-4's cost on 28x28 images, but the first filters
    are learned on the finer drawing instead of on a fixed downsampling of it.
    """

    first_stride = 2


BACKBONES = {"conv4": Conv4, "conv4-stride2": Conv4Stride2}
