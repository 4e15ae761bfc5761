"""instructor package."""
