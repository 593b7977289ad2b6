// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {SumTree} from "../../contracts/registry/lib/SumTree.sol";

contract SumTreeHarness {
    using SumTree for SumTree.Tree;

    SumTree.Tree internal t;

    function insert(address m, uint256 w) external {
        t.insert(m, w);
    }

    function remove(address m) external {
        t.remove(m);
    }

    function update(address m, uint256 w) external returns (bool) {
        return t.update(m, w);
    }

    function total() external view returns (uint256) {
        return t.total();
    }

    function weightOf(address m) external view returns (uint256) {
        return t.weightOf(m);
    }

    function size() external view returns (uint256) {
        return t.size;
    }

    function draw(bytes32 seed, uint256 k) external view returns (address[] memory) {
        return t.drawDistinct(seed, k);
    }
}

/// @notice SumTree: totals stay consistent under random operations; draws are distinct, weighted, and never
///         return zero-weight members.
contract SumTreeTest is Test {
    SumTreeHarness internal h;

    function setUp() public {
        h = new SumTreeHarness();
    }

    function _m(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0x1000 + i));
    }

    function test_InsertRemoveKeepsTotals() public {
        for (uint256 i; i < 5; ++i) {
            h.insert(_m(i), (i + 1) * 10);
        }
        assertEq(h.total(), 150);
        h.remove(_m(1));
        assertEq(h.total(), 130);
        assertEq(h.size(), 4);
        assertEq(h.weightOf(_m(4)), 50);
        h.remove(_m(4)); // now the last
        assertEq(h.total(), 80);
        assertTrue(h.update(_m(0), 0));
        assertFalse(h.update(_m(0), 0));
        assertEq(h.total(), 70);
    }

    function test_RevertWhen_Full() public {
        for (uint256 i; i < 1024; ++i) {
            h.insert(_m(i), 1);
        }
        vm.expectRevert(SumTree.TreeFull.selector);
        h.insert(_m(5000), 1);
        assertEq(h.total(), 1024);
    }

    function test_DrawReturnsFewerWhenNotEnoughWeight() public {
        h.insert(_m(0), 1);
        h.insert(_m(1), 0);
        h.insert(_m(2), 5);
        address[] memory p = h.draw(_n("s"), 3);
        assertEq(p.length, 2);
        assertTrue(p[0] != _m(1) && p[1] != _m(1));
        assertTrue(p[0] != p[1]);
        assertEq(h.draw(_n("s"), 0).length, 0);
        assertEq(new SumTreeHarness().draw(_n("s"), 2).length, 0);
    }

    function testFuzz_RandomOpsKeepTotalAndDrawsDistinct(uint256 seed) public {
        uint256 n = 1 + (seed % 40);
        uint256[] memory w = new uint256[](n + 5);
        bool[] memory present = new bool[](n + 5);
        uint256 sum;
        for (uint256 i; i < n; ++i) {
            w[i] = uint256(keccak256(abi.encode(seed, i))) % 1000;
            h.insert(_m(i), w[i]);
            present[i] = true;
            sum += w[i];
        }
        for (uint256 step; step < 20; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, "op", step)));
            uint256 i = r % n;
            if (!present[i]) continue;
            if (r % 3 == 0) {
                h.remove(_m(i));
                present[i] = false;
                sum -= w[i];
            } else {
                uint256 nw = (r >> 8) % 1000;
                h.update(_m(i), nw);
                sum = sum - w[i] + nw;
                w[i] = nw;
            }
        }
        assertEq(h.total(), sum);
        uint256 positive;
        for (uint256 i; i < n; ++i) {
            if (present[i] && w[i] > 0) ++positive;
        }
        uint256 k = 1 + (seed % 8);
        address[] memory picks = h.draw(bytes32(seed), k);
        assertEq(picks.length, positive < k ? positive : k);
        for (uint256 a; a < picks.length; ++a) {
            uint256 idx = uint160(picks[a]) - 0x1000;
            assertTrue(present[idx] && w[idx] > 0, "zero-weight or removed member drawn");
            for (uint256 b; b < a; ++b) {
                assertTrue(picks[a] != picks[b], "duplicate");
            }
        }
    }

    function test_DrawFrequenciesFollowWeights() public {
        h.insert(_m(0), 1);
        h.insert(_m(1), 3);
        h.insert(_m(2), 0);
        h.insert(_m(3), 6);
        uint256[4] memory hits;
        for (uint256 i; i < 1000; ++i) {
            address p = h.draw(keccak256(abi.encode(i)), 1)[0];
            ++hits[uint160(p) - 0x1000];
        }
        assertEq(hits[2], 0);
        assertApproxEqAbs(hits[0], 100, 40);
        assertApproxEqAbs(hits[1], 300, 60);
        assertApproxEqAbs(hits[3], 600, 60);
    }

    /// @dev A short string literal as bytes32 (implicit conversion, no cast).
    function _n(bytes32 x) internal pure returns (bytes32) {
        return x;
    }
}
