"""Toy problems small enough to see whole: MAML with θ a point in the plane (``maml_plane``)."""
