"""Steps of the official pipelines whose algorithms webbflow does not have yet.

They exist so that the official step lists, parameter files and ``--steps.<name>.skip``
options work unchanged; run (not skipped) they log a warning and record SKIPPED in the
product's ``S_*`` keyword, so a product always says what was not applied.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..stpipe.step import Step


class UnavailableStep(Step):
    """Base of steps not implemented yet: running one records SKIPPED with the reason."""

    missing: ClassVar[str] = "this step"

    def process(self, model: Any) -> Any:
        return self.skip_step(model, f"{self.missing} is not implemented in webbflow 0.1")
