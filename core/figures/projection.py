"""2-D maps of embeddings: PCA for a handful of points, t-SNE when there are enough."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

TSNE_MIN_POINTS = 30


def project_2d(
    points: np.ndarray, method: str = "auto", perplexity: float = 10.0, seed: int = 0
) -> tuple[np.ndarray, str]:
    """Project [N, D] points to [N, 2]; returns the coordinates and a label naming the method.

    ``method`` is "pca", "tsne" or "auto" (t-SNE from ``TSNE_MIN_POINTS`` points on).
    t-SNE's perplexity is clipped below the number of points, as it must be.
    """
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 3:
        raise ValueError(f"a 2-D map needs at least 3 points, got {len(points)}")
    if method == "auto":
        method = "tsne" if len(points) >= TSNE_MIN_POINTS else "pca"
    if method == "pca":
        pca = PCA(n_components=2, random_state=seed).fit(points)
        explained = 100 * pca.explained_variance_ratio_.sum()
        return pca.transform(points), f"PCA ({explained:.0f}% of the variance shown)"
    if method == "tsne":
        perplexity = float(min(perplexity, (len(points) - 1) / 3))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return tsne.fit_transform(points), f"t-SNE (perplexity {perplexity:g})"
    raise ValueError(f"method must be auto, pca or tsne, got {method!r}")
