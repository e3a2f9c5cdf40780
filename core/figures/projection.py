"""2-D maps of embeddings: PCA, where the classifier's geometry survives, or t-SNE's neighbourhoods."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

TSNE_MIN_POINTS = 30
# The label naming each method: ``explained`` is the percentage of the variance PCA shows.
PROJECTION_LABELS = {
    "pca": "PCA ({explained:.0f}% of the variance shown)",
    "tsne": "t-SNE (perplexity {perplexity:g}), a neighbourhood view",
}


def project_2d(
    points: np.ndarray,
    method: str = "pca",
    perplexity: float = 10.0,
    seed: int = 0,
    labels: dict[str, str] | None = None,
) -> tuple[np.ndarray, str]:
    """Project [N, D] points to [N, 2]; returns the coordinates and a label naming the method.

    ``method`` is "pca" (the default), "tsne" or "auto" (t-SNE from ``TSNE_MIN_POINTS`` points on).
    PCA is affine, so a class mean maps to the mean of its projected points; t-SNE keeps
    only who neighbours whom, and its label says so. t-SNE's perplexity is clipped below
    the number of points, as it must be. ``labels`` replaces any of ``PROJECTION_LABELS``.
    """
    labels = PROJECTION_LABELS | (labels or {})
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 3:
        raise ValueError(f"a 2-D map needs at least 3 points, got {len(points)}")
    if method == "auto":
        method = "tsne" if len(points) >= TSNE_MIN_POINTS else "pca"
    if method == "pca":
        pca = PCA(n_components=2, random_state=seed).fit(points)
        explained = 100 * pca.explained_variance_ratio_.sum()
        return pca.transform(points), labels["pca"].format(explained=explained)
    if method == "tsne":
        perplexity = float(min(perplexity, (len(points) - 1) / 3))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        return tsne.fit_transform(points), labels["tsne"].format(perplexity=perplexity)
    raise ValueError(f"method must be auto, pca or tsne, got {method!r}")


def nearest_in_plane(coords: np.ndarray, prototype_coords: np.ndarray) -> np.ndarray:
    """[N, 2] points and [C, 2] projected prototypes -> [N] index of the nearest prototype in the plane."""
    gaps = np.asarray(coords)[:, None, :] - np.asarray(prototype_coords)[None, :, :]
    return (gaps**2).sum(-1).argmin(1)


def decision_grid(
    coords: np.ndarray, prototype_coords: np.ndarray, resolution: int = 80, margin: float = 0.08
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest-projected-prototype regions over the box around ``coords``.

    Returns xs [resolution], ys [resolution] and the class index [resolution, resolution]
    (rows follow ys), ready for a heat map drawn under the points.
    """
    xs, ys = grid_over(coords, resolution, margin)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    return xs, ys, nearest_in_plane(grid, prototype_coords).reshape(resolution, resolution)


class Plane:
    """A PCA plane fitted once: project [N, D] embeddings to [N, 2] and measure from points of the plane.

    Fit it on every embedding an episode can show (support, queries, outlier candidates) and
    project anything later into it, so that changing the support set never rotates the map.
    """

    def __init__(self, points: np.ndarray) -> None:
        points = np.asarray(points, dtype=np.float64)
        if len(points) < 3:
            raise ValueError(f"a 2-D map needs at least 3 points, got {len(points)}")
        self.origin = points.mean(0)
        _, singular, rows = np.linalg.svd(points - self.origin, full_matrices=False)
        axes = rows[:2]
        if len(axes) < 2:  # one-dimensional embeddings: a flat second axis
            axes = np.vstack([axes, np.zeros_like(axes)])
        # SVD's signs are arbitrary; fix them so that the same points always give the same map.
        signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(1)])
        self.axes = axes * np.where(signs == 0, 1, signs)[:, None]  # [2, D], orthonormal rows
        variance = singular**2
        self.explained = float(variance[:2].sum() / variance.sum()) if variance.sum() > 0 else 1.0

    def project(self, points: np.ndarray) -> np.ndarray:
        """[N, D] -> [N, 2]; affine, so the mean of points maps to the mean of their projections."""
        return (np.asarray(points, dtype=np.float64) - self.origin) @ self.axes.T

    def distances_from_plane(self, coords: np.ndarray, prototypes: np.ndarray, distance: str) -> np.ndarray:
        """The model's own distance from the embedding at each plane point to each full prototype.

        ``coords`` [N, 2] name points z = origin + coords @ axes of the D-dimensional plane;
        ``prototypes`` [C, D]; ``distance`` "euclidean" (squared) or "cosine". Returns [N, C],
        computed in closed form (no [N, D] array), exact for embeddings lying in the plane.
        """
        coords, prototypes = np.asarray(coords, dtype=np.float64), np.asarray(prototypes, dtype=np.float64)
        dots = self.origin @ prototypes.T + coords @ (self.axes @ prototypes.T)  # z . c
        squared_norms = self.origin @ self.origin + 2 * coords @ (self.axes @ self.origin) + (coords**2).sum(1)
        prototype_norms = (prototypes**2).sum(1)
        if distance == "euclidean":
            return squared_norms[:, None] - 2 * dots + prototype_norms[None, :]
        if distance == "cosine":
            norms = np.sqrt(np.maximum(squared_norms, 1e-24))[:, None] * np.sqrt(np.maximum(prototype_norms, 1e-24))
            return 1 - dots / norms
        raise ValueError(f"distance must be euclidean or cosine, got {distance!r}")


def grid_over(coords: np.ndarray, resolution: int = 80, margin: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """xs [resolution] and ys [resolution] spanning the box around ``coords`` [N, 2] with a margin."""
    low, high = np.min(coords, 0), np.max(coords, 0)
    pad = margin * np.maximum(high - low, 1e-9)
    return (np.linspace(low[0] - pad[0], high[0] + pad[0], resolution),
            np.linspace(low[1] - pad[1], high[1] + pad[1], resolution))  # fmt: skip
