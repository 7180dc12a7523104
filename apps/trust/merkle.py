"""RFC 9162 Merkle tree hashing, proofs and their verification (section 2.1).

Standard library only: the offline verifier (apps/trust/verify.py) uses this module too.
Proof *generation* reads node hashes through a callback, so the database can serve the
complete subtrees it stores and a proof costs O(log n) reads.
"""

import hashlib
from collections.abc import Callable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def empty_root() -> bytes:
    return hashlib.sha256(b"").digest()


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# A getter answers the hash of the complete subtree at (level, index): the leaves
# [index * 2**level, (index + 1) * 2**level).
NodeGetter = Callable[[int, int], bytes]


def getter(nodes: dict[tuple[int, int], bytes]) -> NodeGetter:
    return lambda level, index: nodes[(level, index)]


def subtree_root(get: NodeGetter, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that starts on a multiple of a power of two covering
    it, as every range in RFC 9162 proofs does; built from stored complete subtrees."""
    size = end - start
    if size == 0:
        return empty_root()
    if size & (size - 1) == 0 and start % size == 0:
        return get(size.bit_length() - 1, start // size)
    k = largest_power_of_two_below(size)
    return node_hash(subtree_root(get, start, start + k), subtree_root(get, start + k, end))


def frontier(size: int) -> list[tuple[int, int]]:
    """The complete subtrees a log of `size` leaves ends with, one per bit set in `size`,
    as (level, index): all that appending to the log, or its root, reads."""
    return [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]


def append(
    nodes: dict[tuple[int, int], bytes], size: int, leaves: list[bytes]
) -> dict[tuple[int, int], bytes]:
    """The complete subtrees made by appending `leaves` (leaf hashes) to a log of `size`:
    the leaves and every node they complete. `nodes` holds at least the log's frontier."""
    known, made = dict(nodes), {}
    for index, leaf in enumerate(leaves, start=size):
        level, position, current = 0, index, leaf
        made[(0, index)] = known[(0, index)] = current
        while position & 1:
            current = node_hash(known[(level, position - 1)], current)
            level, position = level + 1, position // 2
            made[(level, position)] = known[(level, position)] = current
    return made


def inclusion_proof(get: NodeGetter, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError("index outside the tree")
    return _path(get, index, 0, size)


def _path(get: NodeGetter, m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*_path(get, m, start, start + k), subtree_root(get, start + k, end)]
    return [*_path(get, m - k, start + k, end), subtree_root(get, start, start + k)]


def consistency_proof(get: NodeGetter, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    if first == second:
        return []
    return _subproof(get, first, 0, second, complete=True)


def _subproof(get: NodeGetter, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree_root(get, start, end)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [
            *_subproof(get, m, start, start + k, complete=complete),
            subtree_root(get, start + k, end),
        ]
    return [
        *_subproof(get, m - k, start + k, end, complete=False),
        subtree_root(get, start, start + k),
    ]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2, given the leaf hash."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if not 0 < first < second or not proof:
        return False
    if first & (first - 1) == 0:  # a power of two: the first root starts the path
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
