"""Every method on the same seeded episodes: the runner and its sweeps (``runner``), the methods
lined up (``contenders``), the plain baselines (``baselines``), the one-shot game against people
(``game``), and peak tensor memory (``memory``)."""
