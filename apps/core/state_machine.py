"""What every status-driven model in GeraOS shares: a table of legal moves, written out
by the app that owns the model, and one refusal for any other move. Recording a move
stays with each app, whose event model says what a move records."""

from collections.abc import Iterable, Mapping

from apps.core.errors import ConflictError


class Transitions:
    def __init__(
        self,
        table: Mapping[str, Iterable[str]],
        *,
        subject: str,
        refusal: type[ConflictError],
    ) -> None:
        self.table = {state: frozenset(targets) for state, targets in table.items()}
        self.subject = subject
        self.refusal = refusal

    def allows(self, current: str, to: str) -> bool:
        return to in self.table.get(current, frozenset())

    def require(self, current: str, to: str) -> None:
        if not self.allows(current, to):
            raise self.refusal(f"{self.subject} cannot go from {current} to {to}.")
