"""The small demo workspace (tests/smalldemo.py: the same session folder, so it is built once), for the upload
package."""

from __future__ import annotations

from smalldemo import small_demo  # noqa: F401  (fixture)
