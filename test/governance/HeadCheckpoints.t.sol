// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {HeadCheckpoints} from "../../contracts/governance/HeadCheckpoints.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Test} from "forge-std/Test.sol";

contract HeadCheckpointsHarness {
    using HeadCheckpoints for HeadCheckpoints.Trace;
    using Checkpoints for Checkpoints.Trace208;

    HeadCheckpoints.Trace internal _head;
    Checkpoints.Trace208 internal _ref;

    function push(uint48 key, uint208 value) external {
        _head.push(key, value);
        _ref.push(key, value);
    }

    function lookup(uint48 key) external view returns (uint208 got, uint208 want) {
        return (_head.upperLookupRecent(key), _ref.upperLookupRecent(key));
    }

    function latest() external view returns (uint208 got, uint208 want) {
        return (_head.latest(), _ref.latest());
    }
}

/// @notice HeadCheckpoints behaves exactly like an OZ Trace208 (reference) for any in-order push sequence.
contract HeadCheckpointsTest is Test {
    HeadCheckpointsHarness internal h;

    function setUp() public {
        h = new HeadCheckpointsHarness();
    }

    function test_EmptyTraceReadsZero() public view {
        (uint208 got, uint208 want) = h.lookup(10);
        assertEq(got, 0);
        assertEq(want, 0);
    }

    function test_SameKeyOverwritesHead() public {
        h.push(5, 1);
        h.push(5, 2);
        h.push(7, 3);
        (uint208 got,) = h.lookup(5);
        assertEq(got, 2);
        (got,) = h.lookup(6);
        assertEq(got, 2);
        (got,) = h.lookup(4);
        assertEq(got, 0);
        (got,) = h.lookup(7);
        assertEq(got, 3);
    }

    function testFuzz_MatchesOzTrace208(uint8[24] memory gaps, uint208[24] memory values, uint48 probe)
        public
    {
        uint48 key = 1;
        for (uint256 i; i < 24; ++i) {
            key += uint48(gaps[i] % 4); // zero gap = same block overwrite
            h.push(key, values[i]);
        }
        (uint208 gotL, uint208 wantL) = h.latest();
        assertEq(gotL, wantL);
        for (uint48 k; k <= key + 1; ++k) {
            (uint208 got, uint208 want) = h.lookup(k);
            assertEq(got, want);
        }
        (uint208 gotP, uint208 wantP) = h.lookup(probe);
        assertEq(gotP, wantP);
    }
}
