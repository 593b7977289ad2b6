// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IdentityRegistry} from "../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../../contracts/governance/VerinferGovernor.sol";
import {GovernorDelegateOverrides} from "../../contracts/governance/extensions/GovernorDelegateOverrides.sol";
import {GovernorFixedTimelock} from "../../contracts/governance/extensions/GovernorFixedTimelock.sol";
import {GovernorGuardedTargets} from "../../contracts/governance/extensions/GovernorGuardedTargets.sol";
import {GovernorParameterBounds} from "../../contracts/governance/extensions/GovernorParameterBounds.sol";
import {GovernorQuadraticCounting} from "../../contracts/governance/extensions/GovernorQuadraticCounting.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {GovernanceBase} from "./GovernanceBase.t.sol";
import {VetoSlasherStub} from "./mocks/VetoSlasherStub.sol";
import {VotesStakingStub} from "./mocks/VotesStakingStub.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

contract Target {
    uint256 public value;

    event Set(uint256 value);

    function set(uint256 v) external {
        value = v;
        emit Set(v);
    }
}

contract VerinferGovernorTest is GovernanceBase {
    bytes32 internal constant N_DELEGATECAPBPS = "delegateCapBps";
    bytes32 internal constant N_LATEQUORUMEXTENSION = "lateQuorumExtension";
    bytes32 internal constant N_PROPOSALTHRESHOLD = "proposalThreshold";
    bytes32 internal constant N_QUORUMBPS = "quorumBps";
    bytes32 internal constant N_VOTINGDELAY = "votingDelay";
    bytes32 internal constant N_VOTINGPERIOD = "votingPeriod";
    Target internal target;
    address[] internal voters;
    address internal whale = makeAddr("whale");
    address internal proposer;

    function setUp() public override {
        super.setUp();
        target = new Target();
        for (uint256 i; i < 12; ++i) {
            address v = makeAddr(string(abi.encodePacked("voter", i)));
            voters.push(v);
            _attested(v, 100); // voice 10e9 each, total 120e9, cap 12e9
        }
        proposer = voters[0];
        _mine(2);
    }

    uint256 internal _nonce;

    /// @dev Passes and queues a governance proposal calling `t` with `data`; returns what execute needs.
    function _passQueued(address t, bytes memory data)
        internal
        returns (address[] memory ts, uint256[] memory vs, bytes[] memory cs, bytes32 dh)
    {
        (ts, vs, cs) = _singleAction(t, data);
        string memory desc = string(abi.encodePacked("gov", ++_nonce));
        dh = keccak256(bytes(desc));
        vm.prank(proposer);
        uint256 id = governor.propose(ts, vs, cs, desc);
        vm.roll(governor.proposalSnapshot(id) + 1);
        _vote(id, 0, 9, 1);
        _endVoting(id);
        governor.queue(ts, vs, cs, dh);
        vm.warp(block.timestamp + MIN_DELAY);
    }

    function _govExec(address t, bytes memory data) internal {
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs, bytes32 dh) = _passQueued(t, data);
        governor.execute(ts, vs, cs, dh);
    }

    function _govExecReverts(address t, bytes memory data, bytes memory err) internal {
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs, bytes32 dh) = _passQueued(t, data);
        vm.expectRevert(err);
        governor.execute(ts, vs, cs, dh);
    }

    function _propose(address t, bytes memory data) internal returns (uint256 id) {
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(t, data);
        vm.prank(proposer);
        id = governor.propose(ts, vs, cs, "p");
    }

    function _queueExecute(address t, bytes memory data) internal {
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(t, data);
        governor.queue(ts, vs, cs, keccak256("p"));
        vm.warp(block.timestamp + MIN_DELAY);
        governor.execute(ts, vs, cs, keccak256("p"));
    }

    function _vote(uint256 id, uint256 from, uint256 to, uint8 support) internal {
        for (uint256 i = from; i < to; ++i) {
            vm.prank(voters[i]);
            governor.castVote(id, support);
        }
    }

    function _endVoting(uint256 id) internal {
        vm.roll(governor.proposalDeadline(id) + 1);
    }

    // ------------------------------------------------------------------ lifecycle

    function test_ProposalPassesQueuesAndExecutesThroughTimelock() public {
        uint256 id = _propose(address(target), abi.encodeCall(Target.set, (42)));
        assertEq(governor.proposalSnapshot(id), block.number + VOTING_DELAY);
        _mine(2);
        _vote(id, 0, 3, 1);
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded));
        _queueExecute(address(target), abi.encodeCall(Target.set, (42)));
        assertEq(target.value(), 42);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Executed));
    }

    function test_QuorumIsBpsOfTotalVoiceAtSnapshotMinusOne() public {
        uint256 id = _propose(address(target), "");
        uint256 snap = governor.proposalSnapshot(id);
        _mine(2);
        assertEq(governor.quorum(snap), qv.getPastTotalSupply(snap - 1) * 400 / 10_000);
        assertEq(governor.quorum(snap), 120e9 * 400 / 10_000);
    }

    function test_ProposalWithoutQuorumIsDefeated() public {
        _stake(whale, 1_000_000); // unattested: voice 1000e9, total ~1120e9, quorum ~44.8e9
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        _vote(id, 0, 2, 1); // 20e9 < quorum
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    // ------------------------------------------------------------------ flash-loan safety

    function test_StakeArrivingInSnapshotBlockHasNoWeight() public {
        uint256 id = _propose(address(target), "");
        vm.roll(governor.proposalSnapshot(id)); // the snapshot block itself
        _attested(whale, 10_000);
        _mine(1);
        vm.prank(whale);
        uint256 w = governor.castVote(id, 1);
        assertEq(w, 0);
        assertEq(governor.getVotes(whale, governor.proposalSnapshot(id)), 0);
        // sanity: it does count for a proposal snapshotted later
        uint256 id2 = _propose(address(target), "x");
        vm.roll(governor.proposalSnapshot(id2) + 1);
        vm.prank(whale);
        assertGt(governor.castVote(id2, 1), 0);
    }

    function test_FlashLoanStakeAndUnstakeInVotingBlockHasNoWeight() public {
        uint256 id = _propose(address(target), "");
        _mine(2);
        _attested(whale, 1_000_000);
        vm.prank(whale);
        uint256 w = governor.castVote(id, 0);
        _stake(whale, 0);
        assertEq(w, 0);
        (uint256 against,,) = governor.proposalVotes(id);
        assertEq(against, 0);
    }

    // ------------------------------------------------------------------ delegate cap

    function test_DelegateCapLimitsLargeDelegate() public {
        _attested(whale, 10_000); // voice 100e9, total 220e9, cap 22e9
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(whale);
        uint256 w = governor.castVote(id, 1);
        assertEq(w, 220e9 * 1000 / 10_000);
        assertEq(governor.getVotes(whale, governor.proposalSnapshot(id)), w);
    }

    function test_DelegationsAccumulateUpToCap() public {
        address d = makeAddr("delegate");
        for (uint256 i = 1; i < 4; ++i) {
            vm.prank(voters[i]);
            qv.delegate(d);
        }
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        assertEq(qv.getPastVotes(d, block.number - 1), 30e9); // sum of square roots
        vm.prank(d);
        assertEq(governor.castVote(id, 1), 12e9); // capped at 10% of 120e9
    }

    // ------------------------------------------------------------------ overrides

    function test_OverrideAfterDelegateVotedReducesDelegateTally() public {
        address d = makeAddr("delegate");
        vm.prank(voters[1]);
        qv.delegate(d);
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(d);
        assertEq(governor.castVote(id, 1), 10e9);
        vm.prank(voters[1]);
        uint256 w = governor.castOverrideVote(id, 0, "no");
        assertEq(w, 10e9);
        (uint256 against, uint256 forV,) = governor.proposalVotes(id);
        assertEq(forV, 0);
        assertEq(against, 10e9);
        assertTrue(governor.hasOverridden(id, bytes32(uint256(2) | (uint256(1) << 255))));
    }

    function test_OverrideBeforeDelegateVotesIsSubtractedLater() public {
        address d = makeAddr("delegate");
        vm.prank(voters[1]);
        qv.delegate(d);
        vm.prank(voters[2]);
        qv.delegate(d);
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(voters[1]);
        governor.castOverrideVote(id, 2, "");
        vm.prank(d);
        assertEq(governor.castVote(id, 1), 10e9);
        (uint256 against, uint256 forV, uint256 abstain) = governor.proposalVotes(id);
        assertEq(forV, 10e9);
        assertEq(abstain, 10e9);
        assertEq(against, 0);
    }

    function test_OverrideOfCappedDelegateOnlyCutsAboveCap() public {
        address d = makeAddr("delegate");
        for (uint256 i = 1; i < 4; ++i) {
            vm.prank(voters[i]);
            qv.delegate(d);
        }
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(d);
        governor.castVote(id, 1); // raw 30e9, counted 12e9
        vm.prank(voters[1]);
        governor.castOverrideVote(id, 0, ""); // raw 20e9 -> still capped 12e9
        (uint256 against, uint256 forV,) = governor.proposalVotes(id);
        assertEq(forV, 12e9);
        assertEq(against, 10e9);
        vm.prank(voters[2]);
        governor.castOverrideVote(id, 0, ""); // raw 10e9 -> 10e9
        (against, forV,) = governor.proposalVotes(id);
        assertEq(forV, 10e9);
        assertEq(against, 20e9);
    }

    function test_UnattestedAccountOverridesWithItsPoolShare() public {
        address u1 = makeAddr("u1");
        address u2 = makeAddr("u2");
        _stake(u1, 100);
        _stake(u2, 300);
        vm.prank(u1);
        qv.delegate(u2);
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        // total = 120e9 + sqrt(400 tokens) = 140e9; cap = 14e9
        vm.prank(u2);
        assertEq(governor.castVote(id, 1), 14e9); // raw 20e9
        vm.prank(u1);
        assertEq(governor.castOverrideVote(id, 0, ""), 5e9); // 100/400 of the pool's 20e9
        (uint256 against, uint256 forV,) = governor.proposalVotes(id);
        assertEq(against, 5e9);
        assertEq(forV, 14e9); // raw 15e9 still above the cap
    }

    function test_RevertWhen_OverrideTwiceBySameIdentity() public {
        uint256 idn = qv.identityOf(voters[1]);
        address second = makeAddr("second");
        _link(second, idn);
        vm.prank(voters[1]);
        qv.delegate(makeAddr("delegate"));
        _mine(1);
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(voters[1]);
        governor.castOverrideVote(id, 0, "");
        vm.prank(second);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorDelegateOverrides.AlreadyOverridden.selector, bytes32(idn | (uint256(1) << 255))
            )
        );
        governor.castOverrideVote(id, 0, "");
    }

    function test_RevertWhen_OverrideWithoutDelegation() public {
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(voters[1]);
        vm.expectRevert(
            abi.encodeWithSelector(GovernorDelegateOverrides.NothingToOverride.selector, voters[1])
        );
        governor.castOverrideVote(id, 0, "");
    }

    function test_RevertWhen_OverrideInvalidSupport() public {
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(voters[1]);
        vm.expectRevert(IGovernor.GovernorInvalidVoteType.selector);
        governor.castOverrideVote(id, 3, "");
    }

    // ------------------------------------------------------------------ errors

    function test_RevertWhen_VoteTwice() public {
        uint256 id = _propose(address(target), "");
        _mine(2);
        _vote(id, 1, 2, 1);
        vm.prank(voters[1]);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorAlreadyCastVote.selector, voters[1]));
        governor.castVote(id, 0);
    }

    function test_RevertWhen_InvalidVoteType() public {
        uint256 id = _propose(address(target), "");
        _mine(2);
        vm.prank(voters[1]);
        vm.expectRevert(IGovernor.GovernorInvalidVoteType.selector);
        governor.castVote(id, 3);
    }

    function test_RevertWhen_VotingBeforeStart() public {
        uint256 id = _propose(address(target), "");
        vm.prank(voters[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorQuadraticCounting.VotingClosed.selector, id, IGovernor.ProposalState.Pending
            )
        );
        governor.castVote(id, 1);
    }

    function test_RevertWhen_VotingAfterEnd() public {
        uint256 id = _propose(address(target), "");
        _endVoting(id);
        vm.prank(voters[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorQuadraticCounting.VotingClosed.selector, id, IGovernor.ProposalState.Defeated
            )
        );
        governor.castVote(id, 1);
        vm.prank(voters[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorQuadraticCounting.VotingClosed.selector, id, IGovernor.ProposalState.Defeated
            )
        );
        governor.castOverrideVote(id, 1, "");
    }

    function test_RevertWhen_TooManyActions() public {
        address[] memory ts = new address[](11);
        uint256[] memory vs = new uint256[](11);
        bytes[] memory cs = new bytes[](11);
        for (uint256 i; i < 11; ++i) {
            ts[i] = address(target);
        }
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(GovernorGuardedTargets.TooManyActions.selector, 11, 10));
        governor.propose(ts, vs, cs, "p");
    }

    function test_RevertWhen_ProposerBelowThreshold() public {
        address nobody = makeAddr("nobody");
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(address(target), "");
        vm.prank(nobody);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, nobody, 0, THRESHOLD)
        );
        governor.propose(ts, vs, cs, "p");
    }

    function test_RevertWhen_ExecutingBeforeTimelock() public {
        bytes memory data = abi.encodeCall(Target.set, (1));
        uint256 id = _propose(address(target), data);
        _mine(2);
        _vote(id, 0, 3, 1);
        _endVoting(id);
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(address(target), data);
        governor.queue(ts, vs, cs, keccak256("p"));
        uint256 eta = governor.proposalEta(id);
        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(GovernorFixedTimelock.ProposalNotReady.selector, id, eta));
        governor.execute(ts, vs, cs, keccak256("p"));
        vm.warp(eta);
        governor.execute(ts, vs, cs, keccak256("p"));
        assertEq(target.value(), 1);
    }

    function test_RevertWhen_SetterCalledOutsideGovernance() public {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, address(this)));
        governor.setQuorumBps(500);
    }

    function test_BoundedSettersThroughTimelock() public {
        address g = address(governor);
        _govExec(g, abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500)));
        assertEq(governor.quorumBps(), 500);
        _govExec(g, abi.encodeCall(GovernorQuadraticCounting.setDelegateCapBps, (2000)));
        assertEq(governor.delegateCapBps(), 2000);
        _govExec(g, abi.encodeCall(governor.setVotingDelay, (2)));
        assertEq(governor.votingDelay(), 2);
        _govExec(g, abi.encodeCall(governor.setVotingPeriod, (100)));
        assertEq(governor.votingPeriod(), 100);
        _govExec(g, abi.encodeCall(governor.setProposalThreshold, (5)));
        assertEq(governor.proposalThreshold(), 5);
        _govExec(g, abi.encodeCall(governor.setLateQuorumVoteExtension, (20)));
        assertEq(governor.lateQuorumVoteExtension(), 20);
    }

    function test_RevertWhen_SettersOutOfBounds() public {
        address g = address(governor);
        bytes4 sel = GovernorParameterBounds.ParameterOutOfBounds.selector;
        _govExecReverts(
            g,
            abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (99)),
            abi.encodeWithSelector(sel, N_QUORUMBPS, 99, 100, 5000)
        );
        _govExecReverts(
            g,
            abi.encodeCall(GovernorQuadraticCounting.setDelegateCapBps, (5001)),
            abi.encodeWithSelector(sel, N_DELEGATECAPBPS, 5001, 100, 5000)
        );
        _govExecReverts(
            g,
            abi.encodeCall(governor.setVotingDelay, (0)),
            abi.encodeWithSelector(sel, N_VOTINGDELAY, 0, 1, 100_800)
        );
        _govExecReverts(
            g,
            abi.encodeCall(governor.setVotingPeriod, (4)),
            abi.encodeWithSelector(sel, N_VOTINGPERIOD, 4, 5, 201_600)
        );
        _govExecReverts(
            g,
            abi.encodeCall(governor.setProposalThreshold, (1e30 + 1)),
            abi.encodeWithSelector(sel, N_PROPOSALTHRESHOLD, 1e30 + 1, 0, 1e30)
        );
        _govExecReverts(
            g,
            abi.encodeCall(governor.setLateQuorumVoteExtension, (50_401)),
            abi.encodeWithSelector(sel, N_LATEQUORUMEXTENSION, 50_401, 0, 50_400)
        );
    }

    function testFuzz_RevertWhen_ConstructedWithQuorumOutOfBounds(uint256 bps) public {
        bps = bound(bps, 0, type(uint16).max);
        vm.assume(bps < 100 || bps > 5000);
        VerinferGovernor.Config memory cfg = VerinferGovernor.Config({
            votingDelay: 1,
            votingPeriod: 50,
            proposalThreshold: 0,
            lateQuorumExtension: 0,
            // forge-lint: disable-next-line(unsafe-typecast)
            quorumBps: uint16(bps), // bounded to uint16 above
            delegateCapBps: 1000,
            residualK: 0
        });
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, N_QUORUMBPS, bps, 100, 5000
            )
        );
        new VerinferGovernor(qv, timelock, address(ids), cfg);
    }

    function test_RevertWhen_ConstructedOutOfBounds() public {
        VerinferGovernor.Config memory cfg = VerinferGovernor.Config({
            votingDelay: 1,
            votingPeriod: 50,
            proposalThreshold: 0,
            lateQuorumExtension: 0,
            quorumBps: 400,
            delegateCapBps: 50,
            residualK: 0
        });
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, N_DELEGATECAPBPS, 50, 100, 5000
            )
        );
        new VerinferGovernor(qv, timelock, address(ids), cfg);
    }

    // ------------------------------------------------------------------ governance proposals

    function test_GovernanceProposalIsFlaggedByTarget() public {
        uint256 id =
            _propose(address(governor), abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500)));
        assertTrue(governor.isGovernanceProposal(id));
        assertFalse(governor.isGovernanceTarget(address(target)));
        uint256 id2 = _propose(address(target), "");
        assertFalse(governor.isGovernanceProposal(id2));
        // one governance target among plain ones flags the whole proposal
        address[] memory ts = new address[](3);
        (ts[0], ts[1], ts[2]) = (address(target), address(wiredSlasher), address(target));
        vm.prank(proposer);
        uint256 id3 = governor.propose(ts, new uint256[](3), new bytes[](3), "mixed");
        assertTrue(governor.isGovernanceProposal(id3));
    }

    function test_GovernanceTargetsAreTheSuiteReachableThroughTheWiring() public view {
        address[] memory nodes = governor.governanceTargets();
        assertEq(nodes.length, governor.GOVERNANCE_NODES());
        assertEq(nodes[0], address(governor));
        assertEq(nodes[1], address(timelock));
        assertEq(nodes[2], address(qv));
        assertEq(nodes[3], address(ids));
        assertEq(nodes[4], address(staking));
        assertEq(nodes[5], staking.token());
        assertEq(nodes[6], address(wiredSlasher));
        assertEq(nodes[7], address(receiver)); // the slasher's registry
        assertEq(nodes[8], address(disputes)); // the registry's resolver
        for (uint256 i; i < nodes.length; ++i) {
            assertTrue(governor.isGovernanceTarget(nodes[i]));
        }
    }

    /// @dev A second governor on a fresh, not yet wired staking: the set grows as the wiring lands, and a
    ///      proposal is judged on the wiring at propose time.
    function test_GovernanceTargetsFollowTheLiveWiring() public {
        VotesStakingStub st = new VotesStakingStub();
        IdentityRegistry ir = new IdentityRegistry(address(this));
        QuadraticVotes v = new QuadraticVotes(IStaking(address(st)), address(ir));
        VerinferGovernor g = new VerinferGovernor(v, timelock, address(ir), _cfg(0));
        assertEq(g.governanceTargets().length, 6); // governor, timelock, votes, identities, staking, token
        VetoSlasherStub sl = new VetoSlasherStub(address(timelock), address(0));
        assertFalse(g.isGovernanceTarget(address(sl)));

        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(address(sl), "");
        uint256 before = g.propose(ts, vs, cs, "before wiring");
        assertFalse(g.isGovernanceProposal(before));

        st.setSlasher(address(sl)); // staking -> slasher
        assertTrue(g.isGovernanceTarget(address(sl)));
        assertEq(g.governanceTargets().length, 7); // the slasher has no registry yet
        sl.setRequester(address(receiver)); // slasher -> registry -> resolver
        assertEq(g.governanceTargets().length, 9);
        assertTrue(g.isGovernanceTarget(address(disputes)));
        uint256 afterWiring = g.propose(ts, vs, cs, "after wiring");
        assertTrue(g.isGovernanceProposal(afterWiring));
        assertFalse(g.isGovernanceProposal(before)); // judged at propose time
    }

    function test_CodelessWiredAddressIsATargetButNotQueried() public {
        address eoa = makeAddr("slasher EOA");
        staking.setSlasher(eoa);
        assertTrue(governor.isGovernanceTarget(eoa));
        assertEq(governor.governanceTargets().length, 7);
    }

    /// @dev Fail closed: a wiring getter that reverts makes propose revert instead of lowering the bar.
    function test_RevertWhen_WiringGetterReverts() public {
        staking.setSlasher(address(target)); // Target has no registry()
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(makeAddr("grantee"), "");
        vm.prank(proposer);
        vm.expectRevert(bytes(""));
        governor.propose(ts, vs, cs, "p");
    }

    function test_RevertWhen_ConstructedWithAnotherIdentityRegistry() public {
        address other = makeAddr("other registry");
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorGuardedTargets.IdentityRegistryMismatch.selector, other, address(ids)
            )
        );
        new VerinferGovernor(qv, timelock, other, _cfg(0));
    }

    function _cfg(uint256 threshold) internal pure returns (VerinferGovernor.Config memory) {
        return VerinferGovernor.Config({
            votingDelay: 1,
            votingPeriod: 50,
            proposalThreshold: threshold,
            lateQuorumExtension: 0,
            quorumBps: 400,
            delegateCapBps: 1000,
            residualK: 0
        });
    }

    function test_RevertWhen_GovernanceProposalBelowDoubleThreshold() public {
        _govExec(address(governor), abi.encodeCall(governor.setProposalThreshold, (10e9))); // proposer has 10e9
        _mine(2);
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) =
            _singleAction(address(qv), abi.encodeCall(QuadraticVotes.delegate, (address(1))));
        vm.prank(proposer);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, proposer, 10e9, 20e9)
        );
        governor.propose(ts, vs, cs, "p");
        // a plain proposal at the same threshold is fine
        _propose(address(target), "");
    }

    function test_GovernanceProposalNeedsDoubleQuorum() public {
        bytes memory data = abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500));
        uint256 id = _propose(address(governor), data);
        _mine(2);
        _vote(id, 0, 1, 1); // 10e9 >= double quorum 9.6e9
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_GovernanceProposalDefeatedBelowDoubleQuorum() public {
        _govExec(address(governor), abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (1000))); // 12e9, gov 24e9
        bytes memory data = abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500));
        uint256 id = _propose(address(governor), data);
        uint256 plain = _propose(address(target), "");
        _mine(2);
        _vote(id, 0, 2, 1); // 20e9: above 12e9, below 24e9
        _vote(plain, 0, 2, 1);
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated));
        assertEq(uint256(governor.state(plain)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_GovernanceProposalNeedsTwoThirdsSupermajority() public {
        bytes memory data = abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500));
        uint256 id = _propose(address(governor), data);
        uint256 plain = _propose(address(target), "");
        _mine(2);
        _vote(id, 0, 5, 1); // 50e9 for
        _vote(id, 5, 8, 0); // 30e9 against: 62.5% < 66.7%
        _vote(plain, 0, 5, 1);
        _vote(plain, 5, 8, 0);
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated));
        assertEq(uint256(governor.state(plain)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_GovernanceProposalWithTwoThirdsExecutes() public {
        bytes memory data = abi.encodeCall(GovernorQuadraticCounting.setQuorumBps, (500));
        uint256 id = _propose(address(governor), data);
        _mine(2);
        _vote(id, 0, 6, 1); // 60e9
        _vote(id, 6, 9, 0); // 30e9: exactly 2/3
        _endVoting(id);
        assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded));
        _queueExecute(address(governor), data);
        assertEq(governor.quorumBps(), 500);
    }

    // ------------------------------------------------------------------ slash veto through the timelock

    function test_GovernanceVetoesSlashWithinWindowThroughTimelock() public {
        VetoSlasherStub slasher = new VetoSlasherStub(address(timelock), address(this));
        uint256 slashId =
            slasher.requestSlash(ISlasher.FaultKind.WrongResult, makeAddr("op"), bytes32(0), address(0));
        bytes memory data = abi.encodeCall(VetoSlasherStub.vetoSlash, (slashId));
        uint256 id = _propose(address(slasher), data);
        _mine(2);
        _vote(id, 0, 3, 1);
        _endVoting(id);
        _queueExecute(address(slasher), data);
        assertEq(uint256(slasher.slashRequest(slashId).status), uint256(ISlasher.SlashStatus.Vetoed));
        vm.warp(block.timestamp + 3 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                VetoSlasherStub.SlashNotPending.selector, slashId, ISlasher.SlashStatus.Vetoed
            )
        );
        slasher.executeSlash(slashId);
    }

    function test_LateQuorumExtendsDeadline() public {
        uint256 id = _propose(address(target), "");
        uint256 deadline = governor.proposalDeadline(id);
        vm.roll(deadline - 1);
        _vote(id, 0, 1, 1);
        assertEq(governor.proposalDeadline(id), deadline - 1 + LATE_EXT);
    }

    function test_RevertWhen_TimelockMigrationAttempted() public {
        vm.expectRevert(GovernorFixedTimelock.TimelockMigrationDisabled.selector);
        governor.updateTimelock(timelock);
    }

    function test_CountingModeAndClock() public view {
        assertEq(governor.CLOCK_MODE(), "mode=blocknumber&from=default");
        assertEq(governor.clock(), block.number);
        assertEq(
            governor.COUNTING_MODE(), "support=bravo,override&quorum=for,abstain&params=quadratic-capped"
        );
        assertEq(address(governor.timelock()), address(timelock));
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)));
        TimelockController(timelock).getMinDelay();
    }
}
