// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title SumTree
/// @notice A bounded Fenwick (binary indexed) tree of weighted members, with O(log n) weight updates and
///         O(log n) weighted sampling. Used by the registry to pick operators with probability proportional
///         to their stake. Leaves are kept dense (1..size): removing a member moves the last leaf into its
///         place.
/// @dev `node[i]` holds the sum of the leaf weights in `(i - lowbit(i), i]`. Updates propagate up to
///      `CAPACITY`; sampling descends from the smallest power of two covering `size`, so a tree of n
///      members costs ceil(log2 n) node reads per draw.
library SumTree {
    /// @notice Maximum number of members of one tree.
    uint256 internal constant CAPACITY = 1024;

    /// @notice A weighted set of members.
    struct Tree {
        uint256 size;
        mapping(uint256 leaf => uint256) node;
        mapping(uint256 leaf => uint256) weight;
        mapping(uint256 leaf => address) member;
        mapping(address member => uint256) indexOf;
    }

    /// @notice Gas bound of `drawDistinct`'s fixed part (allocation, total read, exits).
    uint256 internal constant DRAW_BASE_GAS = 5000;
    /// @notice Gas bound of one pick beyond its descent (randomness, leaf weight and member reads).
    uint256 internal constant DRAW_PICK_GAS = 6000;
    /// @notice Gas bound of one descent step (a node read, cold in the worst case, and the branch).
    uint256 internal constant DRAW_STEP_GAS = 2500;
    /// @notice Gas bound of excluding one earlier pick at one descent step.
    uint256 internal constant DRAW_EXCLUDE_GAS = 120;

    /// @notice The tree holds `CAPACITY` members already.
    error TreeFull();

    /// @notice Adds `member` with `w`. The caller checks it is not a member yet.
    /// @param t The tree.
    /// @param member The new member.
    /// @param w Its weight.
    function insert(Tree storage t, address member, uint256 w) internal {
        uint256 leaf = t.size + 1;
        if (leaf > CAPACITY) revert TreeFull();
        t.size = leaf;
        t.member[leaf] = member;
        t.indexOf[member] = leaf;
        if (w != 0) {
            t.weight[leaf] = w;
            _add(t, leaf, w);
        }
    }

    /// @notice Removes `member` (the caller checks membership), moving the last leaf into its slot.
    /// @param t The tree.
    /// @param member The member to remove.
    function remove(Tree storage t, address member) internal {
        uint256 leaf = t.indexOf[member];
        uint256 last = t.size;
        uint256 w = t.weight[leaf];
        if (leaf != last) {
            address lastMember = t.member[last];
            uint256 lastWeight = t.weight[last];
            _change(t, leaf, w, lastWeight);
            t.weight[leaf] = lastWeight;
            t.member[leaf] = lastMember;
            t.indexOf[lastMember] = leaf;
            _change(t, last, lastWeight, 0);
        } else {
            _change(t, leaf, w, 0);
        }
        delete t.weight[last];
        delete t.member[last];
        delete t.indexOf[member];
        t.size = last - 1;
    }

    /// @notice Sets `member`'s weight to `w` (the caller checks membership).
    /// @param t The tree.
    /// @param member The member.
    /// @param w The new weight.
    /// @return changed Whether the weight changed.
    function update(Tree storage t, address member, uint256 w) internal returns (bool changed) {
        uint256 leaf = t.indexOf[member];
        uint256 old = t.weight[leaf];
        if (old == w) return false;
        t.weight[leaf] = w;
        _change(t, leaf, old, w);
        return true;
    }

    /// @notice Whether `member` is in the tree.
    /// @param t The tree.
    /// @param member The address.
    /// @return True if a member.
    function contains(Tree storage t, address member) internal view returns (bool) {
        return t.indexOf[member] != 0;
    }

    /// @notice The weight of `member` (zero when not a member).
    /// @param t The tree.
    /// @param member The address.
    /// @return The weight.
    function weightOf(Tree storage t, address member) internal view returns (uint256) {
        uint256 leaf = t.indexOf[member];
        return leaf == 0 ? 0 : t.weight[leaf];
    }

    /// @notice Sum of all weights.
    /// @param t The tree.
    /// @return The total weight.
    function total(Tree storage t) internal view returns (uint256) {
        return t.node[_top(t.size)];
    }

    /// @notice Draws up to `k` distinct members, each with probability proportional to its weight among
    ///         the members not drawn yet. Drawn members are excluded by subtracting their weight from the
    ///         nodes covering them during the descent (a "temporary zeroing" done in memory, never stored).
    /// @param t The tree.
    /// @param seed Randomness seed.
    /// @param k Number of members wanted (small: the caller bounds it).
    /// @return picks The drawn members; shorter than `k` when fewer members have a positive weight.
    function drawDistinct(Tree storage t, bytes32 seed, uint256 k)
        internal
        view
        returns (address[] memory picks)
    {
        picks = new address[](k);
        uint256[] memory leaves = new uint256[](k);
        uint256[] memory weights = new uint256[](k);
        uint256 top = _top(t.size);
        uint256 remaining = t.node[top];
        for (uint256 j; j < k; ++j) {
            if (remaining == 0) {
                assembly ("memory-safe") {
                    mstore(picks, j)
                }
                return picks;
            }
            uint256 r = uint256(keccak256(abi.encode(seed, j))) % remaining;
            uint256 pos;
            for (uint256 step = top >> 1; step != 0; step >>= 1) {
                uint256 next = pos + step;
                uint256 v = t.node[next];
                // Exclude already drawn leaves inside (pos, next].
                for (uint256 m; m < j; ++m) {
                    if (leaves[m] > pos && leaves[m] <= next) v -= weights[m];
                }
                if (v <= r) {
                    pos = next;
                    r -= v;
                }
            }
            uint256 leaf = pos + 1;
            uint256 w = t.weight[leaf];
            leaves[j] = leaf;
            weights[j] = w;
            remaining -= w;
            picks[j] = t.member[leaf];
        }
    }

    /// @notice An upper bound on the gas `drawDistinct(t, seed, k)` uses, whatever the seed: every storage read
    ///         cold and every branch taken. The path of a draw, and so its gas, depends on the seed; callers
    ///         that want a gas estimate made for one seed to hold for every other keep this bound payable.
    /// @param t The tree.
    /// @param k Number of members wanted.
    /// @return The bound in gas.
    function drawGasBound(Tree storage t, uint256 k) internal view returns (uint256) {
        uint256 depth = 0;
        for (uint256 top = _top(t.size); top > 1; top >>= 1) {
            ++depth;
        }
        return DRAW_BASE_GAS + k * (DRAW_PICK_GAS + depth * (DRAW_STEP_GAS + k * DRAW_EXCLUDE_GAS));
    }

    /// @dev Smallest power of two >= `size` (1 for an empty tree, whose node[1] is zero).
    function _top(uint256 size) private pure returns (uint256 top) {
        top = 1;
        while (top < size) top <<= 1;
    }

    function _change(Tree storage t, uint256 leaf, uint256 oldWeight, uint256 newWeight) private {
        if (newWeight > oldWeight) _add(t, leaf, newWeight - oldWeight);
        else if (oldWeight > newWeight) _sub(t, leaf, oldWeight - newWeight);
    }

    function _add(Tree storage t, uint256 leaf, uint256 delta) private {
        for (uint256 i = leaf; i <= CAPACITY; i += i & (~i + 1)) {
            t.node[i] += delta;
        }
    }

    function _sub(Tree storage t, uint256 leaf, uint256 delta) private {
        for (uint256 i = leaf; i <= CAPACITY; i += i & (~i + 1)) {
            t.node[i] -= delta;
        }
    }
}
