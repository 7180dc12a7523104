"""Trust-layer benchmark (not a test): `python -m bench.trust`, or `make bench`.

Prints raw Ed25519 sign/verify rates, receipt issuance (sign + log append, database
included) and verification as ratios to them, and inclusion-proof times at log sizes
10^3, 10^4 and 10^5, which must grow logarithmically.
"""

from decimal import Decimal

from bench.common import median_seconds, rate, test_database

PROOF_SIZES = (1_000, 10_000, 100_000)


def raw_ed25519() -> tuple[float, float]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    message = b"x" * 600  # about the size of a receipt's signing input
    signature = key.sign(message)
    public = key.public_key()
    return rate(lambda: key.sign(message)), rate(lambda: public.verify(signature, message))


def receipts() -> tuple[float, float]:
    from djmoney.money import Money

    from apps.trust import jose, selectors, services
    from tests.factories import UserFactory

    user = UserFactory()

    def issue():
        return services.issue_receipt(
            user=user,
            source={"product": "gerahome", "provider": "p", "skill": "home.plumbing"},
            amount_local=Money("45000", "NGN"),
            amount_settled=Money("22.50", "GBP"),
            fx_rate=Decimal("0.0005"),
            rail="stripe",
            payment_ref="pi_1",
            resolution="completed",
        )

    issued = rate(issue, seconds=3.0)
    token, jwks = issue().jws, selectors.jwks()
    return issued, rate(lambda: jose.jws_verify(token, jwks=jwks, typ=jose.RECEIPT_TYPE))


def synthetic_log(size: int) -> None:
    """Store the complete subtrees of a `size`-leaf log directly (issuing 10^5 receipts
    one by one would take minutes; proofs read only these nodes), and a tree head at each
    size proofs are asked for."""
    from apps.trust import merkle
    from apps.trust.models import LogNode, TreeHead

    nodes = {}
    for start in range(0, size, 5000):
        end = min(start + 5000, size)
        leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(start, end)]
        made = merkle.append({at: nodes[at] for at in merkle.frontier(start)}, start, leaves)
        nodes |= made
        LogNode.objects.bulk_create(
            LogNode(level=level, index=index, hash=digest)
            for (level, index), digest in made.items()
        )
    TreeHead.objects.bulk_create(
        TreeHead(size=n, root_hash=bytes(32), kid="bench", checkpoint="") for n in PROOF_SIZES
    )


def proof_times() -> dict[int, float]:
    from apps.trust import selectors
    from apps.trust.models import LogNode, TreeHead

    LogNode.objects.all().delete()
    TreeHead.objects.all().delete()
    synthetic_log(max(PROOF_SIZES))
    return {
        size: median_seconds(
            lambda size=size: selectors.inclusion_proof(index=size // 3, size=size), 50
        )
        for size in PROOF_SIZES
    }


def main() -> None:
    with test_database() as vendor:
        sign, verify = raw_ed25519()
        issued, verified = receipts()
        print(f"GeraOS trust benchmark on {vendor}")
        print(f"  raw Ed25519: {sign:,.0f} signs/s, {verify:,.0f} verifies/s")
        print(
            f"  receipts issued (sign + log append + checkpoint, DB): {issued:,.0f}/s "
            f"= {issued / sign:.4f}x raw signing"
        )
        print(
            f"  receipt verifications (JWS + JWKS lookup): {verified:,.0f}/s "
            f"= {verified / verify:.2f}x raw verifying"
        )
        times = proof_times()
        base = times[PROOF_SIZES[0]]
        for size, seconds in times.items():
            print(
                f"  inclusion proof at {size:>7,} leaves: {seconds * 1000:.2f} ms "
                f"= {seconds / base:.2f}x the 10^3 time"
            )


if __name__ == "__main__":
    main()
