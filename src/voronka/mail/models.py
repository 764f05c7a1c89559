"""mail channel."""
