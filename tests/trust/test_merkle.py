"""RFC 9162 section 2.1: every inclusion and consistency proof of trees of size 1..64
verifies, and any flipped bit fails."""

import pytest

from apps.trust import merkle


def build(size: int) -> tuple[list[bytes], dict]:
    """Leaf hashes and the complete-subtree store, appended the way the log does it."""
    leaves = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(size)]
    nodes = {}
    for i, leaf in enumerate(leaves):
        level, position, current = 0, i, leaf
        nodes[(0, i)] = leaf
        while position & 1:
            current = merkle.node_hash(nodes[(level, position - 1)], current)
            level, position = level + 1, position // 2
            nodes[(level, position)] = current
    return leaves, nodes


def reference_root(hashes: list[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition."""
    if len(hashes) == 1:
        return hashes[0]
    k = merkle.largest_power_of_two_below(len(hashes))
    return merkle.node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


def flipped(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    damaged = bytearray(proof[which])
    damaged[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:which], bytes(damaged), *proof[which + 1 :]]


SIZES = range(1, 65)


def test_known_answer_for_the_empty_tree_and_one_leaf():
    assert merkle.empty_root().hex().startswith("e3b0c442")
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@pytest.mark.parametrize("size", SIZES)
def test_root_matches_the_rfc_definition(size):
    leaves, nodes = build(size)

    assert merkle.subtree_root(lambda lv, ix: nodes[(lv, ix)], 0, size) == reference_root(leaves)


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(size):
    leaves, nodes = build(size)
    get = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    root = merkle.subtree_root(get, 0, size)

    for index in range(size):
        proof = merkle.inclusion_proof(get, index, size)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
        for which in range(len(proof)):
            assert not merkle.verify_inclusion(
                leaves[index], index, size, flipped(proof, which, index % 256), root
            )
        assert not merkle.verify_inclusion(bytes(32), index, size, proof, root)


@pytest.mark.parametrize("second", SIZES)
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(second):
    _, nodes = build(second)
    get = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    second_root = merkle.subtree_root(get, 0, second)

    for first in range(1, second + 1):
        first_root = merkle.subtree_root(get, 0, first)
        proof = merkle.consistency_proof(get, first, second)
        assert merkle.verify_consistency(first, second, first_root, second_root, proof)
        for which in range(len(proof)):
            damaged = flipped(proof, which, first % 256)
            assert not merkle.verify_consistency(first, second, first_root, second_root, damaged)
        if first < second:
            assert not merkle.verify_consistency(first, second, bytes(32), second_root, proof)


@pytest.mark.parametrize("size", SIZES)
def test_a_batch_appended_to_any_log_makes_the_nodes_appending_one_by_one_does(size):
    leaves, nodes = build(size)

    for before in range(size):
        frontier = {at: nodes[at] for at in merkle.frontier(before)}
        made = merkle.append(frontier, before, leaves[before:])

        assert made == {at: digest for at, digest in nodes.items() if _ends_after(at, before)}
        assert merkle.subtree_root(merkle.getter(frontier | made), 0, size) == reference_root(
            leaves
        )


def _ends_after(node: tuple[int, int], size: int) -> bool:
    level, index = node
    return (index + 1) << level > size
