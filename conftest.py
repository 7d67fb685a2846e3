"""This repository's own test run: the harness's pytest plugin is wired in by its ``pytest11``
entry point (installed with the package) and switched on by ``--stream-harness`` in ``addopts``,
so ``pytest`` runs the tests in ``tests/`` and the conformance matrix from ``scenarios/``."""
