// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {Slasher} from "../../../contracts/slashing/Slasher.sol";
import {GovernanceIntegrationBase} from "./GovernanceIntegrationBase.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Governance with the REAL Staking and Slasher (registry still a mock until it lands): a dispute
///         from challenge to an executed WrongResult slash paying the challenger, and a governance veto of
///         such a slash through the timelock inside the veto window.
contract SlasherIntegrationTest is GovernanceIntegrationBase {
    uint256 internal constant MIN_DELAY = 1 days; // < WrongResult veto window (2 days) < unbonding

    Slasher internal slasher;

    address internal treasury = makeAddr("treasury");

    bytes32 internal constant GOOD = keccak256("good");
    bytes32 internal constant BAD = keccak256("bad");

    function setUp() public {
        _deployStaking();
        slasher = new Slasher(staking, address(this), treasury);
        _deployGovernance(address(slasher), MIN_DELAY);
        slasher.wire(address(registry), address(timelock));
        registry.setSlasher(slasher);
        _registerOperators(makeAddr("signerA"), makeAddr("signerB"), 500e18);
        _addAttestedVoters(12, false);
    }

    function _disputeAgainstOpB() internal returns (uint256 slashId) {
        bytes32[] memory c = new bytes32[](2);
        c[0] = GOOD;
        c[1] = BAD;
        address[] memory ops = new address[](2);
        ops[0] = opA;
        ops[1] = opB;
        uint256 id = registry.open(1, c, ops, challenger);
        for (uint256 i; i < 6; ++i) {
            vm.prank(voters[i]);
            disputes.castVote(id, 1);
        }
        vm.warp(disputes.dispute(id).voteEnd + 1);
        vm.roll(block.number + 1);
        assertEq(disputes.resolve(id), GOOD);
        vm.warp(block.timestamp + MIN_DELAY);
        disputes.execute(id);
        slashId = slasher.slashCount();
        ISlasher.SlashRequest memory r = slasher.slashRequest(slashId);
        assertEq(r.operator, opB);
        assertEq(uint256(r.kind), uint256(ISlasher.FaultKind.WrongResult));
        assertEq(uint256(r.status), uint256(ISlasher.SlashStatus.Pending));
    }

    function test_TimingInvariants() public view {
        uint48 veto = slasher.faultParams(ISlasher.FaultKind.WrongResult).vetoWindow;
        assertLt(timelock.getMinDelay(), veto); // governance can veto inside the window
        assertLt(timelock.getMinDelay() + veto, staking.unbondingDelay()); // stake is still there
    }

    function test_FullDisputeLifecycleToRealSlashPayingChallenger() public {
        uint256 slashId = _disputeAgainstOpB();
        uint256 stakeBefore = staking.operatorStake(opB);
        vm.warp(slasher.slashRequest(slashId).executableAt);
        uint256 amount = slasher.executeSlash(slashId);
        assertEq(amount, stakeBefore * 500 / 10_000); // WrongResult: 5%
        assertEq(staking.operatorStake(opB), stakeBefore - amount);
        assertEq(token.balanceOf(challenger), amount * 2000 / 10_000); // reporter share 20%
        assertEq(uint256(slasher.slashRequest(slashId).status), uint256(ISlasher.SlashStatus.Executed));
        // the operator's governance voice follows once its stake is re-synced
        staking.syncStake(opB, opB);
        assertEq(qv.stakeOf(opB), staking.stakeOf(opB));
    }

    function test_GovernanceVetoesRealSlashThroughTimelock() public {
        uint256 slashId = _disputeAgainstOpB();
        address[] memory t = new address[](1);
        t[0] = address(slasher);
        bytes[] memory c = new bytes[](1);
        c[0] = abi.encodeCall(ISlasher.vetoSlash, (slashId));
        uint256[] memory v = new uint256[](1);
        vm.prank(voters[0]);
        uint256 pid = governor.propose(t, v, c, "veto");
        vm.roll(governor.proposalSnapshot(pid) + 1);
        for (uint256 i; i < 8; ++i) {
            vm.prank(voters[i]);
            governor.castVote(pid, 1);
        }
        vm.roll(governor.proposalDeadline(pid) + 1);
        governor.queue(t, v, c, keccak256("veto"));
        vm.warp(block.timestamp + MIN_DELAY);
        uint256 stakeBefore = staking.operatorStake(opB);
        governor.execute(t, v, c, keccak256("veto"));
        assertEq(uint256(slasher.slashRequest(slashId).status), uint256(ISlasher.SlashStatus.Vetoed));
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(ISlasher.SlashNotPending.selector, slashId, ISlasher.SlashStatus.Vetoed)
        );
        slasher.executeSlash(slashId);
        assertEq(staking.operatorStake(opB), stakeBefore);
    }

    function test_VoiceOfDelegatorsDropsAfterOperatorSlash() public {
        uint256 before = qv.getVotes(voters[0]);
        uint256 half = staking.operatorStake(opA) / 2;
        vm.prank(address(slasher));
        staking.slash(opA, half, treasury);
        staking.syncStake(voters[0], opA);
        assertEq(qv.getVotes(voters[0]), Math.sqrt(staking.stakeOf(voters[0])));
        assertLt(qv.getVotes(voters[0]), before);
    }
}
