"""Tests that need the feature skip on a FastAPI that predates it (the `pre` tox env)."""

import pytest

from harness.installed import feature_missing_reason


def pytest_collection_modifyitems(config, items):
    reason = feature_missing_reason()
    if not reason:
        return
    for item in items:
        if item.get_closest_marker("needs_feature") or "test_mutants" in item.nodeid:
            item.add_marker(pytest.mark.skip(reason=reason))
