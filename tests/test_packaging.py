"""Packaging: desktop entry and AppStream metadata are well-formed; the built wheel installs and runs."""

from __future__ import annotations

import configparser
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

from generec_desktop import __version__

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "packaging"


def test_desktop_entry_has_required_keys():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read(PKG / "io.github.generec.Desktop.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "generec-desktop"
    assert entry["Icon"] == "io.github.generec.Desktop"
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"]
    assert entry["MimeType"].endswith(";")


def test_appstream_metadata_is_complete():
    root = ET.parse(PKG / "io.github.generec.Desktop.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    for tag in ("id", "name", "summary", "description", "metadata_license", "project_license", "launchable"):
        assert root.find(tag) is not None, f"AppStream metadata lacks <{tag}>"
    assert root.findtext("id") == "io.github.generec.Desktop"
    assert root.find("launchable").text == "io.github.generec.Desktop.desktop"
    assert next(r.get("version") for r in root.iter("release")) == __version__


def test_built_wheel_installs_and_runs(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    wheels = list(dist.glob("generec_desktop-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # --no-deps: `generec --version` must start without the heavy dependencies (they are imported lazily).
    inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])],
                          capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-3000:]
    out = subprocess.run([str(env_dir / "bin" / "generec"), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == f"generec {__version__}"
    gui = subprocess.run([str(env_dir / "bin" / "generec-desktop"), "--version"], capture_output=True, text=True,
                         timeout=120)
    assert gui.returncode == 0 and __version__ in gui.stdout
