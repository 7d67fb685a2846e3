"""The README's sample outputs are today's real output: each marked sample is produced again from a
real run and compared on structure and counts (timings and measured latencies left out). When this
fails, `python scripts/readme_samples.py` rewrites the samples."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from harness.installed import versions

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("readme_samples", ROOT / "scripts" / "readme_samples.py")
readme_samples = importlib.util.module_from_spec(_spec)
sys.modules["readme_samples"] = readme_samples  # its dataclass looks its module up there
_spec.loader.exec_module(readme_samples)

SAMPLES = readme_samples.samples((ROOT / "README.md").read_text("utf-8"))

pytestmark = pytest.mark.needs_feature


def test_the_readme_has_samples():
    assert len(SAMPLES) >= 3
    assert any(s.args == "run --no-write" for s in SAMPLES)  # the whole default matrix


# A buffering app costs one 2 s lock-step wait per def variant (about 30 s): in `pytest -m slow`.
_SLOW = ("examples.apps.buffering",)


@pytest.mark.parametrize("sample", [pytest.param(s, id=s.args, marks=[pytest.mark.slow] if any(k in s.args for k in _SLOW)
                                                 else []) for s in SAMPLES])
def test_a_readme_sample_is_what_the_command_prints_today(sample):
    made_with = readme_samples.fastapi_of(sample.body)
    if made_with and made_with != versions()["fastapi"]:
        pytest.skip(f"the sample shows FastAPI {made_with}; {versions()['fastapi']} is installed")
    fresh = readme_samples.render(sample)
    assert readme_samples.normalize(fresh) == readme_samples.normalize(sample.body), (
        "the README's sample drifted: run `python scripts/readme_samples.py`")


def test_normalize_ignores_timings_but_not_counts():
    a = "637 cases, 11466 results: 2269 pass in 20.79 s\nloop lag total [asgi]: def streams max 13.5 ms over 12"
    b = "637 cases, 11466 results: 2269 pass in 9.10 s\nloop lag total [asgi]: def streams max 3.1 ms over 12"
    assert readme_samples.normalize(a) == readme_samples.normalize(b)
    assert readme_samples.normalize(a) != readme_samples.normalize(a.replace("637 cases", "397 cases"))
