"""GeneRec Desktop: per-audience thumbnails, clips, styles and AI revisions of short videos.

The core (everything but ``generec_desktop.app``) is plain Python with no Qt; heavy libraries
(torch, av, diffusers) are imported lazily so that the CLI and the window start fast.
"""

__version__ = "0.1.0"
