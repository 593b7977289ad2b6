// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../../contracts/governance/DisputeGovernor.sol";
import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../../../contracts/governance/VerinferGovernor.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {Slasher} from "../../../contracts/slashing/Slasher.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../../contracts/token/VerinferToken.sol";
import {MockDisputeReceiver} from "../mocks/MockDisputeReceiver.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Governance with the REAL Staking and Slasher (registry still a mock until it lands): a dispute
///         from challenge to an executed WrongResult slash paying the challenger, and a governance veto of
///         such a slash through the timelock inside the veto window.
contract SlasherIntegrationTest is Test {
    uint48 internal constant UNBONDING = 21 days;
    uint256 internal constant MIN_DELAY = 1 days; // < WrongResult veto window (2 days) < unbonding

    VerinferToken internal token;
    Staking internal staking;
    Slasher internal slasher;
    IdentityRegistry internal ids;
    QuadraticVotes internal qv;
    TimelockController internal timelock;
    VerinferGovernor internal governor;
    DisputeGovernor internal disputes;
    MockDisputeReceiver internal registry;

    address internal treasury = makeAddr("treasury");
    address internal issuer = makeAddr("issuer");
    address internal opA = makeAddr("opA");
    address internal opB = makeAddr("opB");
    address internal challenger = makeAddr("challenger");
    address[] internal voters;

    bytes32 internal constant GOOD = keccak256("good");
    bytes32 internal constant BAD = keccak256("bad");

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new VerinferToken("Verinfer", "VINF", address(this), 0);
        staking = new Staking(token, address(this), 100e18, UNBONDING, 1 days);
        slasher = new Slasher(staking, address(this), treasury);
        ids = new IdentityRegistry(address(this));
        qv = new QuadraticVotes(staking, address(ids));
        staking.wire(address(slasher), address(qv), address(0));
        ids.wire(qv);
        ids.approveIssuer(issuer);

        timelock = new TimelockController(MIN_DELAY, new address[](0), new address[](0), address(this));
        governor = new VerinferGovernor(
            qv,
            timelock,
            address(ids),
            VerinferGovernor.Config({
                votingDelay: 1,
                votingPeriod: 50,
                proposalThreshold: 1e9,
                lateQuorumExtension: 10,
                quorumBps: 400,
                delegateCapBps: 1000
            })
        );
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.EXECUTOR_ROLE(), address(0));
        disputes = new DisputeGovernor(qv, staking, timelock, address(this), 20, 400, 1000);
        registry = new MockDisputeReceiver(disputes);
        disputes.wire(registry);
        slasher.wire(address(registry), address(timelock));
        registry.setSlasher(slasher);

        _fund(opA, 1000e18);
        _fund(opB, 1000e18);
        vm.prank(opA);
        staking.registerOperator(makeAddr("signerA"), 500e18);
        vm.prank(opB);
        staking.registerOperator(makeAddr("signerB"), 500e18);
        for (uint256 i; i < 12; ++i) {
            address v = makeAddr(string(abi.encodePacked("voter", i)));
            voters.push(v);
            _fund(v, 1000e18);
            vm.prank(issuer);
            uint256 id = ids.createIdentity();
            vm.prank(issuer);
            ids.offerLink(v, id);
            vm.prank(v);
            ids.acceptLink(id);
            vm.prank(v);
            staking.delegate(opA, 100e18);
        }
        vm.roll(block.number + 2);
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(staking), type(uint256).max);
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
        vm.roll(disputes.dispute(id).voteEnd + 1);
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
