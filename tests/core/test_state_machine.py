import pytest

from apps.core.errors import ConflictError
from apps.core.state_machine import Transitions


class DoorJammed(ConflictError):
    code = "door_jammed"


DOOR = Transitions(
    {"closed": {"open", "locked"}, "open": {"closed"}, "locked": {"closed"}},
    subject="A door",
    refusal=DoorJammed,
)


@pytest.mark.parametrize(
    ("current", "to", "allowed"),
    [("closed", "open", True), ("locked", "closed", True), ("open", "locked", False)],
)
def test_a_move_is_allowed_only_when_the_table_lists_it(current, to, allowed):
    assert DOOR.allows(current, to) is allowed


def test_a_state_the_table_does_not_name_goes_nowhere():
    assert not DOOR.allows("unhinged", "closed")


def test_an_illegal_move_raises_the_owner_s_refusal_naming_both_states():
    with pytest.raises(DoorJammed, match="A door cannot go from open to locked") as refused:
        DOOR.require("open", "locked")

    assert (refused.value.code, refused.value.status) == ("door_jammed", 409)
