"""The small base every few-shot algorithm stands on."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from core.episodes import Episode
from core.preprocessing import Preprocessing


class FewShotAlgorithm(nn.Module):
    """A learner that classifies an episode's queries from its support set.

    Learners are stateless between episodes: the support set is always an argument,
    never kept on ``self``, so one cached model can serve many sessions at once.
    Subclasses set ``name``, implement ``forward`` and ``explain``, and list their
    constructor settings in ``settings`` (saved in checkpoints).
    """

    name: ClassVar[str] = ""

    def __init__(self, preprocessing: Preprocessing, **settings: Any) -> None:
        super().__init__()
        self.preprocessing = preprocessing
        self.settings = settings

    def forward(self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
        """float support [S, C, H, W], int64 labels [S], float queries [Q, C, H, W] -> logits [Q, n_way]."""
        raise NotImplementedError

    def loss(self, logits: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of logits [Q, n_way] against labels [Q]."""
        return F.cross_entropy(logits, query_y)

    def inputs(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The episode's normalised images and labels, on this model's device."""
        device = self.device
        return (
            self.preprocessing.normalise(episode.support_x.to(device)),
            episode.support_y.to(device),
            self.preprocessing.normalise(episode.query_x.to(device)),
            episode.query_y.to(device),
        )

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, query accuracy) of one episode; the training loop averages these."""
        support_x, support_y, query_x, query_y = self.inputs(episode)
        logits = self(support_x, support_y, query_x)
        return self.loss(logits, query_y), (logits.argmax(1) == query_y).float().mean()

    @torch.no_grad()
    def predict_episode(self, episode: Episode) -> torch.Tensor:
        """Predicted labels [Q] of an episode's queries (no gradients kept)."""
        support_x, support_y, query_x, _ = self.inputs(episode)
        return self(support_x, support_y, query_x).argmax(1)

    def explain(self, episode: Episode) -> Any:
        """A typed trace of what the algorithm computed on ``episode``, for the pages."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
