// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../../contracts/governance/DisputeGovernor.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {VetoSlasherStub} from "../mocks/VetoSlasherStub.sol";
import {GovernanceIntegrationBase} from "./GovernanceIntegrationBase.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Governance on the REAL Staking contract: voice follows Staking's observer calls (delegation,
///         unstake, slash + sync), flash-loan safety on real stake, and a full dispute lifecycle from
///         challenge to slash (mock registry and slasher until those land on main).
contract StakingIntegrationTest is GovernanceIntegrationBase {
    uint256 internal constant MIN_DELAY = 2 days;

    VetoSlasherStub internal slasher;

    address internal slasherAddr = makeAddr("slasherAddr");
    address internal signerA = makeAddr("signerA");
    address internal signerB = makeAddr("signerB");

    function setUp() public {
        _deployStaking();
        _deployGovernance(slasherAddr, MIN_DELAY);
        slasher = new VetoSlasherStub(address(timelock), address(registry));
        registry.setSlasher(ISlasher(address(slasher)));
        _registerOperators(signerA, signerB, 100e18);
        _addAttestedVoters(12, true);
    }

    function test_TimelockDelayIsShorterThanUnbonding() public view {
        assertLt(timelock.getMinDelay(), staking.unbondingDelay());
    }

    function test_VoiceFollowsRealStaking() public {
        assertEq(qv.stakeOf(voters[0]), staking.stakeOf(voters[0]));
        assertEq(qv.getVotes(voters[0]), Math.sqrt(100e18));
        // unattested operators share the pool: opA and opB each 100e18
        assertEq(qv.getVotes(opA), 100e18 * Math.sqrt(200e18) / 200e18);
        uint256 total = qv.totalVoice();
        assertEq(total, 12 * Math.sqrt(100e18) + Math.sqrt(200e18));

        // more stake on a second operator adds up inside the same identity
        vm.prank(voters[0]);
        staking.delegate(opB, 300e18);
        assertEq(qv.getVotes(voters[0]), Math.sqrt(400e18));

        // unstake removes voice at once
        uint256 shares = staking.sharesOf(opB, voters[0]);
        vm.prank(voters[0]);
        staking.requestUnstake(opB, shares);
        assertEq(qv.getVotes(voters[0]), Math.sqrt(100e18));
    }

    function test_SlashThenSyncReducesVoice() public {
        uint256 before = qv.getVotes(voters[0]);
        vm.prank(slasherAddr);
        staking.slash(opA, 350e18, slasherAddr); // half of opA's 700e18 active+unbonding
        staking.syncStake(voters[0], opA);
        assertEq(qv.stakeOf(voters[0]), staking.stakeOf(voters[0]));
        assertLt(qv.getVotes(voters[0]), before);
        assertEq(qv.getVotes(voters[0]), Math.sqrt(staking.stakeOf(voters[0])));
    }

    function test_RealStakeInSnapshotBlockHasNoWeight() public {
        address whale = makeAddr("whale");
        _fund(whale, 1_000_000e18);
        vm.prank(voters[0]);
        uint256 id = governor.propose(_arr(address(0xBEEF)), new uint256[](1), new bytes[](1), "p");
        vm.roll(governor.proposalSnapshot(id));
        vm.prank(whale);
        staking.delegate(opA, 1_000_000e18);
        vm.roll(block.number + 1);
        vm.prank(whale);
        assertEq(governor.castVote(id, 1), 0);
    }

    function test_FullDisputeLifecycleChallengeToSlash() public {
        bytes32 good = keccak256("good");
        bytes32 bad = keccak256("bad");
        bytes32[] memory c = new bytes32[](2);
        c[0] = good;
        c[1] = bad;
        address[] memory ops = new address[](2);
        ops[0] = opA;
        ops[1] = opB;
        uint256 id = registry.open(1, c, ops, challenger);

        // the operators' hot keys cannot vote
        vm.prank(signerB);
        vm.expectRevert(abi.encodeWithSelector(DisputeGovernor.InvolvedVoter.selector, id, signerB));
        disputes.castVote(id, 2);

        for (uint256 i; i < 8; ++i) {
            vm.prank(voters[i]);
            disputes.castVote(id, i < 6 ? 1 : 2);
        }
        vm.warp(disputes.dispute(id).voteEnd + 1);
        vm.roll(block.number + 1);
        assertEq(disputes.resolve(id), good);
        vm.warp(block.timestamp + MIN_DELAY);
        disputes.execute(id);
        (bool resolved, bytes32 outcome) = registry.outcomeOf(id);
        assertTrue(resolved);
        assertEq(outcome, good);

        // the loser (opB) faces a WrongResult slash; governance may veto it inside the window, else it runs
        ISlasher.SlashRequest memory r = slasher.slashRequest(1);
        assertEq(r.operator, opB);
        assertEq(r.reporter, challenger);
        vm.warp(r.executableAt);
        slasher.executeSlash(1);
        assertEq(uint256(slasher.slashRequest(1).status), uint256(ISlasher.SlashStatus.Executed));
    }

    function _arr(address a) internal pure returns (address[] memory t) {
        t = new address[](1);
        t[0] = a;
    }
}
