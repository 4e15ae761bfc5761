"""creator package."""
