// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernanceBase} from "./GovernanceBase.t.sol";

/// @notice QuadraticVotes.getPastVoiceCount: attested identities with non-zero voice (of live issuers), plus
///         one for the unattested pool; the governor scales its residual rule by it (issue #17).
contract VoiceCountTest is GovernanceBase {
    event VoiceCountChanged(uint256 identities);

    function _count() internal returns (uint256) {
        _mine(1);
        return qv.getPastVoiceCount(block.number - 1);
    }

    function test_CountsIdentitiesWithVoice() public {
        assertEq(_count(), 0);
        _attested(makeAddr("a"), 1);
        _attested(makeAddr("b"), 100);
        assertEq(_count(), 2);
    }

    function test_AnIdentityWithSeveralAccountsCountsOnce() public {
        uint256 id = _attested(makeAddr("a"), 100);
        _link(makeAddr("a2"), id);
        _stake(makeAddr("a2"), 50);
        assertEq(_count(), 1);
    }

    function test_SplitUnattestedStakeCountsOneVoice() public {
        for (uint256 i; i < 20; ++i) {
            _stake(makeAddr(string(abi.encodePacked("u", i))), 10);
        }
        assertEq(_count(), 1);
        _attested(makeAddr("a"), 100);
        assertEq(_count(), 2);
    }

    function test_AnIdentityLeavesTheCountWhenItsStakeGoesToZeroAndReturns() public {
        address a = makeAddr("a");
        _attested(a, 100);
        _attested(makeAddr("b"), 100);
        vm.expectEmit(address(qv));
        emit VoiceCountChanged(1);
        _stake(a, 0);
        assertEq(_count(), 1);
        _stake(a, 5);
        assertEq(_count(), 2);
    }

    function test_DelegationDoesNotChangeTheCount() public {
        address d = makeAddr("d");
        _attested(d, 100);
        for (uint256 i; i < 5; ++i) {
            address a = makeAddr(string(abi.encodePacked("a", i)));
            _attested(a, 100);
            vm.prank(a);
            qv.delegate(d);
        }
        assertEq(_count(), 6);
    }

    function test_TheUnattestedPoolLeavesTheCountWhenItIsEmpty() public {
        address u = makeAddr("u");
        _stake(u, 10);
        _attested(makeAddr("a"), 100);
        assertEq(_count(), 2);
        _stake(u, 0);
        assertEq(_count(), 1);
    }

    function test_ARevokedIssuersIdentitiesLeaveTheCountAtOnce() public {
        address rogue = makeAddr("rogue");
        ids.approveIssuer(rogue);
        address[] memory r = new address[](4);
        for (uint256 i; i < 4; ++i) {
            r[i] = makeAddr(string(abi.encodePacked("r", i)));
            _attestedBy(rogue, r[i], 100);
        }
        _attested(makeAddr("h"), 100);
        assertEq(_count(), 5);
        uint256 before = block.number;
        vm.expectEmit(address(qv));
        emit VoiceCountChanged(1);
        ids.revokeIssuer(rogue);
        assertEq(_count(), 1);
        assertEq(qv.getPastVoiceCount(before - 1), 5); // the past does not move
        // the voiceless identities' later stake changes do not count either
        _stake(r[0], 0);
        _stake(r[1], 500);
        assertEq(_count(), 1);
    }

    function test_RevertWhen_VoiceCountOfTheCurrentBlock() public {
        vm.expectRevert();
        qv.getPastVoiceCount(block.number);
    }
}
