"""GeraOS benchmarks: ratios between comparable operations, from one run.

    make bench          # python -m bench.run and bench.trust, against throw-away
                        # PostgreSQL and Redis (like make test)

Absolute times depend on the machine; the ratios are what to compare between commits.
"""

from bench.common import median_seconds, test_database

REPEAT = 200


def best_of(fn) -> float:
    return median_seconds(fn, REPEAT)


def bench_memory_read() -> tuple[str, float]:
    from apps.memory import selectors, services
    from apps.memory.models import MemoryItem, MemoryScope
    from tests.factories import UserFactory, product, put_on_plan

    user, home = UserFactory(), MemoryScope.objects.get(code="home")
    put_on_plan(user, "studio")
    gerahome = product("gerahome")
    for n in range(100):
        services.memory_write(
            user=user,
            product=gerahome,
            scope=home,
            kind="preference",
            key=f"k{n}",
            value={"note": "x" * 200, "n": n},
        )
    encrypted = best_of(lambda: selectors.memory_items_for_user(user=user, scope=home))
    plain = best_of(
        lambda: list(
            MemoryItem.objects.filter(user=user, scope=home).select_related("scope", "product")
        )
    )
    return "memory: read 100 items decrypted / same rows without decryption", encrypted / plain


def bench_agent_auth() -> tuple[str, float]:
    from django.test import Client

    from tests.factories import UserFactory, make_grant

    user = UserFactory()
    _, token = make_grant(user)
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    person = Client()
    person.force_login(user)
    as_agent = best_of(lambda: agent.get("/api/v1/me"))
    as_person = best_of(lambda: person.get("/api/v1/me"))
    return "api: GET /api/v1/me with a bearer token / with a session", as_agent / as_person


def bench_quota() -> tuple[str, float]:
    from apps.identity import services
    from apps.identity.models import Feature
    from tests.factories import UserFactory, put_on_plan

    user = UserFactory()
    put_on_plan(user, "studio")
    consume = best_of(lambda: services.require_entitlement(user=user, feature=Feature.DISPATCHES))
    flag = best_of(
        lambda: services.require_entitlement(user=user, feature=Feature.CROSS_PRODUCT_MEMORY)
    )
    return "identity: consume a monthly quota / check an on-off feature", consume / flag


def main() -> None:
    with test_database() as vendor:
        print(f"GeraOS benchmarks on {vendor}, median of {REPEAT} calls each")
        for bench in (bench_memory_read, bench_agent_auth, bench_quota):
            label, ratio = bench()
            print(f"  {ratio:6.2f}x  {label}")


if __name__ == "__main__":
    main()
