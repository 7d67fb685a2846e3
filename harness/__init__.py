"""fastapi-stream-harness: a conformance harness for FastAPI's "Stream Data" feature.

Public API for scenario and check authors::

    from harness import scenario, check, Failure, NotApplicable
"""

from .checks import Failure, Informational, NonStrict, NotApplicable, check
from .errors import HarnessError, ScenarioError, UsageError
from .outcomes import Outcome, Result
from .scenarios import Scenario, scenario

__all__ = ["scenario", "Scenario", "check", "Failure", "NonStrict", "NotApplicable", "Informational",
           "Outcome", "Result", "HarnessError", "UsageError", "ScenarioError"]
