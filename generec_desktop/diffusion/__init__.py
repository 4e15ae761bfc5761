"""diffusion package."""
