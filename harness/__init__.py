"""fastapi-stream-harness: a conformance harness for FastAPI's "Stream Data" feature.

Public API for scenario and check authors::

    from harness import scenario, expect, check, Failure, NotApplicable
"""

from .checks import Failure, Informational, NonStrict, NotApplicable, check
from .errors import HarnessError, ScenarioError, UsageError
from .outcomes import Outcome, Result
from .scenarios import Expectation, Scenario, expect, scenario

__all__ = ["scenario", "expect", "Expectation", "Scenario", "check", "Failure", "NonStrict", "NotApplicable", "Informational",
           "Outcome", "Result", "HarnessError", "UsageError", "ScenarioError"]
