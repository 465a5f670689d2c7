"""What the wheel installs: only the `interp` and `rasp` namespaces (the dashboard lives in
`interp.app`, so installing this project never claims a top-level name like `app`)."""

from __future__ import annotations

from pathlib import Path

import tomllib
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_has_only_our_two_top_level_packages():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=config["include"], exclude=config.get("exclude", ()))
    assert {name.split(".")[0] for name in packages} == {"interp", "rasp"}
    assert "interp.app" in packages and "interp.app.panels" in packages


def test_license_is_an_spdx_expression():
    # PEP 639: a plain SPDX string; the table form ({text = ...}) is deprecated by setuptools.
    assert isinstance(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"], str)
