"""Where the work runs: device choice (``devices``) and data-parallel training under torchrun (``distributed``)."""
