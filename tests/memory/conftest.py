import pytest

from apps.memory.models import MemoryScope
from tests.factories import make_grant, product


@pytest.fixture
def gerahome(db):
    return product("gerahome")


@pytest.fixture
def geraclinic(db):
    return product("geraclinic")


@pytest.fixture
def scope(db):
    return lambda code: MemoryScope.objects.get(code=code)


MEMORY_SCOPES = [
    f"memory:{right}:{code}"
    for right in ("read", "write")
    for code in ("preferences", "home", "health", "payments", "conversations")
]


@pytest.fixture
def memory_agent(user):
    """A grant for `user` holding every memory scope: only consent decides."""
    return make_grant(user, scopes=MEMORY_SCOPES)
