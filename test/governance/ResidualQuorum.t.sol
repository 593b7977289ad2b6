// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VerinferGovernor} from "../../contracts/governance/VerinferGovernor.sol";
import {GovernorParameterBounds} from "../../contracts/governance/extensions/GovernorParameterBounds.sol";
import {GovernanceBase} from "./GovernanceBase.t.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";

/// @notice GovernorResidualQuorum: the for side must reach the base quorum and beat against without its K
///         largest voices (one voice per identity, the unattested pool counting as one); a governance
///         target's full for side still needs twice the base quorum and 2/3.
contract ResidualQuorumTest is GovernanceBase {
    bytes32 internal constant N_RESIDUALK = "residualK";
    address internal proposer = makeAddr("proposer");
    uint256 internal _n;

    event ParameterChanged(bytes32 indexed name, uint256 oldValue, uint256 newValue);
    event ResidualKFixed(uint256 indexed proposalId, uint256 k, uint256 voices);

    function setUp() public override {
        super.setUp();
        _attested(proposer, 4); // voice 2e9: twice the threshold, as a proposal to the governor needs
        _deploy(10);
    }

    /// @dev Replaces the fixture's governor with one whose residual K is `k`, wired to the same timelock.
    function _deploy(uint256 k) internal {
        // forge-lint: disable-next-line(unsafe-typecast)
        governor = new VerinferGovernor(qv, timelock, address(ids), _governorConfig(uint8(k))); // k <= 16
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
    }

    /// @dev Passes, queues and executes a proposal calling `setResidualK(k)`, with `voters` all for; returns
    ///      the calls `execute` needs, unexecuted when `execute_` is false.
    function _govSetK(uint256 k, address[] memory voters, bool execute_)
        internal
        returns (address[] memory ts, uint256[] memory vs, bytes[] memory cs, bytes32 dh)
    {
        (ts, vs, cs) = _singleAction(address(governor), abi.encodeCall(governor.setResidualK, (k)));
        string memory desc = string(abi.encodePacked("k", ++_n));
        dh = keccak256(bytes(desc));
        _mine(3);
        vm.prank(proposer);
        uint256 id = governor.propose(ts, vs, cs, desc);
        vm.roll(governor.proposalSnapshot(id) + 1);
        _cast(id, voters, 1);
        vm.roll(governor.proposalDeadline(id) + 1);
        governor.queue(ts, vs, cs, dh);
        vm.warp(block.timestamp + MIN_DELAY);
        if (execute_) governor.execute(ts, vs, cs, dh);
    }

    /// @dev `n` fresh attested voters with `tokens` each.
    function _crowd(uint256 n, uint256 tokens) internal returns (address[] memory a) {
        a = new address[](n);
        for (uint256 i; i < n; ++i) {
            a[i] = makeAddr(string(abi.encodePacked("v", ++_n)));
            _attested(a[i], tokens);
        }
    }

    /// @dev `n` fresh unattested voters with `tokens` each.
    function _unattested(uint256 n, uint256 tokens) internal returns (address[] memory a) {
        a = new address[](n);
        for (uint256 i; i < n; ++i) {
            a[i] = makeAddr(string(abi.encodePacked("u", ++_n)));
            _stake(a[i], tokens);
        }
    }

    function _open() internal returns (uint256 id) {
        _mine(3); // the proposer's voice is read at clock() - 2
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) = _singleAction(address(this), "");
        vm.prank(proposer);
        id = governor.propose(ts, vs, cs, string(abi.encodePacked("p", ++_n)));
        vm.roll(governor.proposalSnapshot(id) + 1);
    }

    /// @dev Opens a proposal to a governance target (`setResidualK` on the governor: twice the base quorum, 2/3).
    function _openGuarded() internal returns (uint256 id) {
        _mine(3);
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs) =
            _singleAction(address(governor), abi.encodeCall(governor.setResidualK, (5)));
        vm.prank(proposer);
        id = governor.propose(ts, vs, cs, string(abi.encodePacked("g", ++_n)));
        assertTrue(governor.isGovernanceProposal(id));
        vm.roll(governor.proposalSnapshot(id) + 1);
    }

    function _cast(uint256 id, address[] memory a, uint8 support) internal {
        for (uint256 i; i < a.length; ++i) {
            vm.prank(a[i]);
            governor.castVote(id, support);
        }
    }

    /// @dev `top` and `yes` vote for, `no` against.
    function _castSides(uint256 id, address[] memory top, address[] memory yes, address[] memory no)
        internal
    {
        _cast(id, top, 1);
        _cast(id, yes, 1);
        _cast(id, no, 0);
    }

    function _state(uint256 id) internal returns (IGovernor.ProposalState) {
        vm.roll(governor.proposalDeadline(id) + 1);
        return governor.state(id);
    }

    // ------------------------------------------------------------------ the rule

    function test_TenLargestVoicesAloneCannotPassAtLowTurnout() public {
        address[] memory top = _crowd(10, 10_000); // voice 100e9 each
        _crowd(400, 100); // the electorate that stays home: 10e9 each
        uint256 id = _open();
        _cast(id, top, 1);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 10);
        assertEq(residual, 0);
        assertGe(_forVotes(id), governor.quorum(governor.proposalSnapshot(id))); // quorum alone would pass
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    function test_SameVotesPassWhenTheRuleIsOff() public {
        _deploy(0);
        address[] memory top = _crowd(10, 10_000);
        _crowd(400, 100);
        uint256 id = _open();
        _cast(id, top, 1);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_BroadSupportPassesWithoutItsLargestVoices() public {
        address[] memory top = _crowd(10, 10_000);
        address[] memory crowd = _crowd(60, 100); // 600e9 beyond the top 10; total 1,601e9, quorum 64e9
        uint256 id = _open();
        _cast(id, top, 1);
        _cast(id, crowd, 1);
        (uint256 residual,) = governor.residualForVotes(id);
        assertEq(residual, 60 * _sqrtTokens(100));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_ResidualMustAlsoBeatTheAgainstSide() public {
        address[] memory top = _crowd(10, 10_000);
        address[] memory crowd = _crowd(30, 100); // 300e9 for after the top 10
        address[] memory against = _crowd(35, 100); // 350e9 against: for wins 1300 to 350 overall
        _crowd(200, 100);
        uint256 id = _open();
        _castSides(id, top, crowd, against);
        (uint256 residual,) = governor.residualForVotes(id);
        assertGe(residual, governor.quorum(governor.proposalSnapshot(id)));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    function test_UnattestedSplitCountsAsOneVoice() public {
        // a whale spreads its stake over 40 unattested accounts: the pool is one voice, the largest one
        address[] memory split = _unattested(40, 2500);
        address[] memory crowd = _crowd(12, 100);
        _crowd(100, 100);
        uint256 id = _open();
        _cast(id, split, 1);
        _cast(id, crowd, 1);
        (uint256 residual,) = governor.residualForVotes(id);
        // removed: the pool and the 9 largest attested voices; left: 3 attested voices
        assertEq(residual, 3 * _sqrtTokens(100));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    /// @dev Issue #17: one person (identity `id`, `n` linked accounts) gathers the unattested pool's voice by
    ///      having its unattested accounts delegate one to each linked account; every linked account votes
    ///      for. Returns the proposal and the person's accounts.
    function _onePersonSpreadOverLinkedAccounts(uint256 n, uint256 tokensEach)
        internal
        returns (uint256 id, address[] memory accounts)
    {
        uint256 person = _newIdentity();
        accounts = new address[](n);
        address[] memory pool = _unattested(n, tokensEach);
        for (uint256 i; i < n; ++i) {
            accounts[i] = makeAddr(string(abi.encodePacked("linked", ++_n)));
            _link(accounts[i], person);
            vm.prank(pool[i]);
            qv.delegate(accounts[i]);
        }
        _crowd(30, 1); // the rest of the network, small and staying home: 32 voices with the pool, K = 10
        id = _open();
        _cast(id, accounts, 1);
    }

    function test_OnePersonCannotPassByVotingThePoolThroughManyLinkedAccounts() public {
        (uint256 id,) = _onePersonSpreadOverLinkedAccounts(20, 10_000);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 10);
        assertEq(residual, 0); // one identity: one voice, taken out with the K largest
    }

    /// @dev A fresh identity with `n` linked accounts (no stake of their own), each delegated to by a fresh
    ///      unattested account holding `tokens[i]`.
    function _person(uint256[] memory tokens) internal returns (uint256 person, address[] memory accounts) {
        person = _newIdentity();
        accounts = new address[](tokens.length);
        for (uint256 i; i < tokens.length; ++i) {
            accounts[i] = makeAddr(string(abi.encodePacked("linked", ++_n)));
            _link(accounts[i], person);
            address giver = makeAddr(string(abi.encodePacked("giver", ++_n)));
            _stake(giver, tokens[i]);
            vm.prank(giver);
            qv.delegate(accounts[i]);
        }
    }

    function _tokens3(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory t) {
        t = new uint256[](3);
        (t[0], t[1], t[2]) = (a, b, c);
    }

    /// @dev Casts `a`'s ballots for and returns the weights summed.
    function _castSum(uint256 id, address[] memory a) internal returns (uint256 sum) {
        for (uint256 i; i < a.length; ++i) {
            vm.prank(a[i]);
            sum += governor.castVote(id, 1);
        }
    }

    /// @dev Casts `a`'s ballots for; returns the weights summed, the smallest and the largest.
    function _castAll(uint256 id, address[] memory a) internal returns (uint256 sum, uint256 lo, uint256 hi) {
        lo = type(uint256).max;
        for (uint256 i; i < a.length; ++i) {
            vm.prank(a[i]);
            uint256 w = governor.castVote(id, 1);
            sum += w;
            if (w < lo) lo = w;
            if (w > hi) hi = w;
        }
    }

    /// @dev Entry `i` of proposal `id`'s kept list (0..14: the K largest identity sums, descending; 15: the
    ///      pool), read from storage. `_largest` is at slot 14 of VerinferGovernor
    ///      (`forge inspect VerinferGovernor storage-layout`).
    function _kept(uint256 id, uint256 i) internal view returns (uint256) {
        bytes32 base = keccak256(abi.encode(id, uint256(14)));
        uint256 word = uint256(vm.load(address(governor), bytes32(uint256(base) + (i >> 2))));
        return uint64(word >> ((i & 3) << 6));
    }

    function test_AccountsOfOneIdentityCountAsOneVoice() public {
        _deploy(1);
        (, address[] memory person) = _person(_tokens3(200, 200, 200));
        address[] memory crowd = _crowd(6, 100);
        _crowd(20, 100); // stay home: keeps the delegate cap (10% of the total voice) above every ballot
        uint256 id = _open();
        (uint256 personSum,, uint256 personHi) = _castAll(id, person);
        (uint256 crowdSum, uint256 crowdLo,) = _castAll(id, crowd);
        // each linked account alone votes less than any crowd voice, the three together more: keyed by
        // account, K = 1 would take out a crowd voice and leave the person's whole sum in the residual
        assertLt(personHi, crowdLo);
        assertGt(personSum, crowdLo);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 1);
        assertEq(residual, crowdSum); // the one largest voice taken out is the identity's sum
        assertEq(_kept(id, 0), personSum);
    }

    function test_TwoIdentitiesCountAsTwoVoices() public {
        _deploy(2);
        (, address[] memory alice) = _person(_tokens3(200, 200, 200));
        (, address[] memory bob) = _person(_tokens3(150, 150, 150));
        address[] memory crowd = _crowd(6, 100);
        _crowd(20, 100);
        uint256 id = _open();
        (uint256 aliceSum,,) = _castAll(id, alice);
        (uint256 bobSum,,) = _castAll(id, bob);
        (uint256 crowdSum,,) = _castAll(id, crowd);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 2);
        assertEq(residual, crowdSum); // both identities' sums taken out, the whole crowd left
        assertEq(_kept(id, 0), aliceSum);
        assertEq(_kept(id, 1), bobSum);
    }

    /// @dev One identity's accounts vote between other voices: after every ballot, the kept list is the two
    ///      largest identity sums, the identity's running sum moving up past the others.
    function test_AnIdentityVotingInSeveralBallotsKeepsItsSumInOrder() public {
        _deploy(2);
        uint256[] memory t = new uint256[](4);
        (t[0], t[1], t[2], t[3]) = (300, 300, 300, 300);
        (, address[] memory person) = _person(t);
        address[] memory crowd = _crowd(3, 100);
        _crowd(30, 100);
        uint256 id = _open();
        address[] memory one = new address[](1);
        uint256[3] memory c;
        for (uint256 i; i < 3; ++i) {
            one[0] = crowd[i];
            (c[i],,) = _castAll(id, one);
        }
        uint256 sum;
        for (uint256 i; i < 4; ++i) {
            one[0] = person[i];
            (uint256 w,,) = _castAll(id, one);
            sum += w;
            uint256 top = sum > c[0] ? sum : c[0];
            uint256 second = sum > c[0] ? c[0] : (sum > c[1] ? sum : c[1]);
            assertEq(_kept(id, 0), top);
            assertEq(_kept(id, 1), second);
        }
        assertGt(sum, c[0]); // the sum ended on top, past each crowd voice
        (uint256 residual,) = governor.residualForVotes(id);
        assertEq(residual, c[1] + c[2]);
    }

    function test_KIsFixedAtTheFirstBallotFor() public {
        address[] memory crowd = _crowd(30, 100);
        address[] memory twelve = new address[](12);
        for (uint256 i; i < 12; ++i) {
            twelve[i] = crowd[i];
        }
        uint256 id = _open();
        _cast(id, twelve, 1);
        _govSetK(1, crowd, true); // 30 for: 20 voices left without the 10 largest
        assertEq(governor.residualK(), 1);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 10);
        assertEq(residual, 2 * _sqrtTokens(100));
    }

    function test_OverrideAfterDelegateVotedLeavesTheResidualALowerBound() public {
        address[] memory crowd = _crowd(12, 100);
        _crowd(20, 1); // 20e9 that stay home: 34 voices, so the full K = 10 applies
        address delegator = makeAddr("delegator");
        _attested(delegator, 100);
        vm.prank(delegator);
        qv.delegate(crowd[0]); // crowd[0] votes 20e9
        uint256 id = _open();
        _cast(id, crowd, 1);
        vm.prank(delegator);
        governor.castOverrideVote(id, 0, "");
        (uint256 residual,) = governor.residualForVotes(id);
        // crowd[0] voted 20e9 capped at 10% of the total voice (152e9): 15.2e9; the override took it down to
        // 10e9, so for is 12 x 10e9, but its kept entry is still 15.2e9: removed 15.2e9 + 9 x 10e9
        uint256 cap = qv.getPastTotalSupply(governor.proposalSnapshot(id) - 1) / 10;
        assertEq(_forVotes(id), 120e9);
        assertEq(residual, 120e9 - cap - 90e9);
        assertLt(residual, 20e9); // the exact residual: 12 equal voices of 10e9 less 10 of them
    }

    // ------------------------------------------------------------------ bootstrap: K scaled by the voices

    function test_FourVoiceNetworkWithProductionKPassesAnHonestProposal() public {
        address[] memory crowd = _crowd(3, 100); // with the proposer: 4 voices, K applied = 1
        uint256 id = _open();
        _cast(id, crowd, 1);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(governor.residualK(), 10);
        assertEq(k, 1);
        // three equal ballots, each capped at 10% of the total voice (32e9); the largest is taken out
        assertEq(residual, 2 * (qv.getPastTotalSupply(governor.proposalSnapshot(id) - 1) / 10));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_TenVoiceNetworkWithProductionKPassesAProposalLoweringK() public {
        address[] memory crowd = _crowd(9, 100); // with the proposer: 10 voices, K applied = 3
        _govSetK(0, crowd, true); // a governance target: twice the base quorum, 2/3, residual of 6 voices
        assertEq(governor.residualK(), 0);
    }

    function test_ThirtyVoiceNetworkAppliesTheFullKAndItsTopTenCannotPassAlone() public {
        address[] memory top = _crowd(10, 10_000);
        _crowd(19, 1); // with the proposer: 30 voices, K applied = 10
        uint256 id = _open();
        _cast(id, top, 1);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 10);
        assertEq(residual, 0);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    /// @dev The price of the bootstrap: below 3 K voices, a coalition holding more than a third of them can
    ///      pass alone when its voices beyond the largest third reach quorum.
    function test_BelowThirtyVoicesACoalitionOfMoreThanAThirdOfTheVoicesPassesAlone() public {
        address[] memory top = _crowd(10, 10_000);
        _crowd(18, 1); // with the proposer: 29 voices, K applied = 9
        uint256 id = _open();
        _cast(id, top, 1);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 9);
        assertEq(residual, _sqrtTokens(10_000));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_VoicesJoiningOrLeavingAfterTheSnapshotDoNotChangeTheKApplied() public {
        address[] memory crowd = _crowd(11, 100); // with the proposer: 12 voices, K applied = 4
        uint256 id = _open();
        _crowd(30, 100); // joined after the snapshot: would make K 10
        for (uint256 i; i < 6; ++i) {
            _stake(crowd[i], 0); // left after the snapshot: would make K 2
        }
        _mine(1);
        assertEq(qv.getPastVoiceCount(block.number - 1), 36);
        address[] memory rest = new address[](5);
        for (uint256 i; i < 5; ++i) {
            rest[i] = crowd[6 + i];
        }
        _cast(id, rest, 1);
        (, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 4);
    }

    function test_GatheringDelegationsDoesNotLowerTheKApplied() public {
        address[] memory crowd = _crowd(12, 100); // with the proposer: 13 voices, K applied = 4
        address gatherer = crowd[0];
        for (uint256 i = 1; i < 12; ++i) {
            vm.prank(crowd[i]);
            qv.delegate(gatherer);
        }
        uint256 id = _open();
        address[] memory one = new address[](1);
        one[0] = gatherer;
        _cast(id, one, 1); // one delegate carrying 12 identities: still one voice of 13, taken out
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 4);
        assertEq(residual, 0);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    function test_ResidualKFixedIsEmittedAtTheFirstBallotFor() public {
        address[] memory crowd = _crowd(7, 100); // with the proposer: 8 voices, K applied = 2
        uint256 id = _open();
        vm.expectEmit(address(governor));
        emit ResidualKFixed(id, 2, 8);
        vm.prank(crowd[0]);
        governor.castVote(id, 1);
    }

    /// @dev Regression: with the rule off at the first ballot for, K used to stay unfixed and a later
    ///      `setResidualK` applied to the proposal already voted on.
    function test_KStaysFixedWhenTheRuleWasOffAtTheFirstBallotFor() public {
        _deploy(0);
        address[] memory crowd = _crowd(30, 100);
        address[] memory twelve = new address[](12);
        for (uint256 i; i < 12; ++i) {
            twelve[i] = crowd[i];
        }
        uint256 id = _open();
        _cast(id, twelve, 1);
        _govSetK(10, crowd, true);
        assertEq(governor.residualK(), 10);
        (uint256 residual, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 0);
        assertEq(residual, 12 * _sqrtTokens(100));
    }

    /// @dev Any network of `n` equal attested voices (plus the proposer) all voting for an ordinary proposal:
    ///      K applied is min(10, voices / 3) and it passes, however few the voices.
    function testFuzz_UnanimousNetworkOfAnySizePassesWithProductionK(uint8 nRaw) public {
        uint256 n = bound(nRaw, 1, 40);
        address[] memory crowd = _crowd(n, 100);
        uint256 id = _open();
        _cast(id, crowd, 1);
        (, uint256 k) = governor.residualForVotes(id);
        assertEq(k, (n + 1) / 3 < 10 ? (n + 1) / 3 : 10);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    /// @dev The ten largest voices alone, in any network of at least 3 K = 30 voices (stay-home voices of any
    ///      size up to theirs): never pass.
    function testFuzz_TopTenAloneNeverPassInANetworkOfThirtyOrMoreVoices(uint8 othersRaw, uint16 sizeRaw)
        public
    {
        address[] memory top = _crowd(10, 10_000);
        _crowd(bound(othersRaw, 19, 60), bound(sizeRaw, 1, 10_000));
        uint256 id = _open();
        _cast(id, top, 1);
        (, uint256 k) = governor.residualForVotes(id);
        assertEq(k, 10);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    // ------------------------------------------------------------------ parameter

    function test_SetResidualKOnlyByGovernanceWithinBounds() public {
        address[] memory crowd = _crowd(30, 100);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorOnlyExecutor.selector, address(this)));
        governor.setResidualK(5);
        (address[] memory ts, uint256[] memory vs, bytes[] memory cs, bytes32 dh) = _govSetK(16, crowd, false);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, N_RESIDUALK, 16, 0, 15
            )
        );
        governor.execute(ts, vs, cs, dh);
        (ts, vs, cs, dh) = _govSetK(15, crowd, false);
        vm.expectEmit(address(governor));
        emit ParameterChanged(N_RESIDUALK, 10, 15);
        governor.execute(ts, vs, cs, dh);
        assertEq(governor.residualK(), 15);
    }

    function test_RevertWhen_ConstructedWithResidualKAboveBound() public {
        VerinferGovernor.Config memory cfg = _governorConfig(16);
        vm.expectRevert(
            abi.encodeWithSelector(
                GovernorParameterBounds.ParameterOutOfBounds.selector, N_RESIDUALK, 16, 0, 15
            )
        );
        new VerinferGovernor(qv, timelock, address(ids), cfg);
    }

    function test_GovernanceTargetPassesWhenItsResidualMeetsTheBaseQuorum() public {
        address[] memory top = _crowd(10, 10_000); // 1,000e9
        address[] memory crowd = _crowd(30, 100); // 300e9 beyond the top 10
        _crowd(400, 100); // 4,000e9 stay home: total 5,302e9, base quorum 212e9, twice 424e9
        uint256 id = _openGuarded();
        _cast(id, top, 1);
        _cast(id, crowd, 1);
        (uint256 residual,) = governor.residualForVotes(id);
        uint256 base = governor.quorum(governor.proposalSnapshot(id));
        assertEq(residual, 30 * _sqrtTokens(100));
        assertGe(residual, base); // the residual meets the base quorum
        assertLt(residual, 2 * base); // but not the doubled one a governance target's full for side needs
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Succeeded));
    }

    function test_GovernanceTargetFailsWhenItsResidualMissesTheBaseQuorum() public {
        address[] memory top = _crowd(10, 10_000);
        address[] memory crowd = _crowd(15, 100); // 150e9 beyond the top 10
        _crowd(400, 100); // total 5,152e9, base quorum 206e9
        uint256 id = _openGuarded();
        _cast(id, top, 1);
        _cast(id, crowd, 1);
        (uint256 residual,) = governor.residualForVotes(id);
        assertLt(residual, governor.quorum(governor.proposalSnapshot(id)));
        assertGe(_forVotes(id), 2 * governor.quorum(governor.proposalSnapshot(id))); // full for side would pass
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    function test_GovernanceTargetStillNeedsTwiceTheBaseQuorumForItsFullForSide() public {
        _deploy(1);
        address[] memory crowd = _crowd(30, 100); // 300e9 for, residual 290e9
        _crowd(400, 100); // total 4,302e9, base quorum 172e9, twice 344e9
        uint256 id = _openGuarded();
        _cast(id, crowd, 1);
        (uint256 residual,) = governor.residualForVotes(id);
        uint256 base = governor.quorum(governor.proposalSnapshot(id));
        assertGe(residual, base);
        assertLt(_forVotes(id), 2 * base);
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Defeated));
    }

    // ------------------------------------------------------------------ fuzz

    /// @dev Any split of a governance target's vote between K large voices, a crowd for and a crowd against:
    ///      it succeeds exactly when for + abstain reach twice the base quorum, for is 2/3 of for + against, and
    ///      for less its K largest voices reaches the base quorum and beats against.
    function testFuzz_GovernanceTargetOutcomeFollowsTheRule(uint8 kRaw, uint8 forRaw, uint8 againstRaw)
        public
    {
        uint256 k = bound(kRaw, 1, 15);
        _deploy(k);
        address[] memory top = _crowd(k, 10_000);
        address[] memory yes = _crowd(bound(forRaw, 0, 60), 100);
        address[] memory no = _crowd(bound(againstRaw, 0, 30), 100);
        _crowd(200, 100);
        uint256 id = _openGuarded();
        _castSides(id, top, yes, no);
        (uint256 residual,) = governor.residualForVotes(id);
        assertEq(residual, yes.length * _sqrtTokens(100));
        (uint256 a, uint256 f,) = governor.proposalVotes(id);
        uint256 base = governor.quorum(governor.proposalSnapshot(id));
        bool expected = f >= 2 * base && f * 3 >= (f + a) * 2 && residual >= base && residual > a;
        IGovernor.ProposalState want =
            expected ? IGovernor.ProposalState.Succeeded : IGovernor.ProposalState.Defeated;
        assertEq(uint256(_state(id)), uint256(want));
    }

    /// @dev Any mix of attested and unattested ballots for: the residual is the for tally less the K largest
    ///      voices, the unattested ballots summed into one voice, with K = min(residualK, voices / 3).
    function testFuzz_ResidualIsForLessTheKLargestVoices(uint256 seed, uint8 kRaw, uint8 nRaw) public {
        uint256 k = bound(kRaw, 1, 15);
        uint256 n = bound(nRaw, 1, 30);
        _deploy(k);
        address[] memory a = new address[](n);
        bool[] memory pooled = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            a[i] = makeAddr(string(abi.encodePacked("f", i)));
            pooled[i] = r % 4 == 0;
            if (pooled[i]) _stake(a[i], 1 + (r >> 8) % 5000);
            else _attested(a[i], 1 + (r >> 8) % 5000);
        }
        uint256 voices = 1; // the proposer
        bool anyPooled;
        for (uint256 i; i < n; ++i) {
            if (pooled[i]) anyPooled = true;
            else ++voices;
        }
        if (anyPooled) ++voices;
        uint256 kEff = voices / 3 < k ? voices / 3 : k;
        uint256 id = _open();
        uint256[] memory w = new uint256[](n + 1); // attested weights, then the pool
        uint256 forVotes;
        for (uint256 i; i < n; ++i) {
            vm.prank(a[i]);
            uint256 weight = governor.castVote(id, 1);
            forVotes += weight;
            if (pooled[i]) w[n] += weight;
            else w[i] = weight;
        }
        uint256 removed = _removeLargest(w, kEff);
        (uint256 residual, uint256 kApplied) = governor.residualForVotes(id);
        assertEq(kApplied, kEff);
        assertEq(residual, forVotes - removed);
        assertEq(_forVotes(id), forVotes);
    }

    /// @dev Identities with several linked accounts (each delegated unattested stake), single-account
    ///      identities and unattested voters cast ballots for and against in a random order: after every
    ///      ballot the kept list is exactly the K largest per-identity sums of ballots for (brute force), the
    ///      pool entry the unattested voters' sum, and the residual the for tally less the K largest voices.
    function testFuzz_KeptListIsTheKLargestIdentitySums(uint256 seed, uint8 kRaw) public {
        uint256 k = bound(kRaw, 1, 6);
        _deploy(k);
        _crowd(18, 1); // with the proposer and the pool: at least 3 K voices, so K applies in full
        address[] memory voters = new address[](24);
        uint256[] memory idOf = new uint256[](24); // the identity key of each voter (0: the pool)
        uint256 nv;
        for (uint256 p; p < 4; ++p) {
            uint256 r = uint256(keccak256(abi.encode(seed, "person", p)));
            uint256[] memory t = new uint256[](1 + r % 4);
            for (uint256 j; j < t.length; ++j) {
                t[j] = 1 + (r >> (8 + 16 * j)) % 2000;
            }
            (uint256 pid, address[] memory accs) = _person(t);
            for (uint256 j; j < accs.length; ++j) {
                (voters[nv], idOf[nv]) = (accs[j], pid);
                ++nv;
            }
        }
        for (uint256 i; i < 6; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, "single", i)));
            voters[nv] = makeAddr(string(abi.encodePacked("s", i)));
            if (r % 3 == 0) {
                _stake(voters[nv], 1 + (r >> 8) % 3000); // unattested: the pool
            } else {
                idOf[nv] = _attested(voters[nv], 1 + (r >> 8) % 3000);
            }
            ++nv;
        }
        uint256 id = _open();
        for (uint256 i = nv; i > 1; --i) {
            // Fisher-Yates over the first nv voters
            uint256 j = uint256(keccak256(abi.encode(seed, "order", i))) % i;
            (voters[i - 1], voters[j], idOf[i - 1], idOf[j]) =
            (voters[j], voters[i - 1], idOf[j], idOf[i - 1]);
        }
        uint256[] memory sums = new uint256[](nv + 1); // per voter slot: the sum of its identity's first voter
        uint256 pool;
        for (uint256 i; i < nv; ++i) {
            uint8 support = uint256(keccak256(abi.encode(seed, "side", i))) % 5 == 0 ? 0 : 1;
            vm.prank(voters[i]);
            uint256 w = governor.castVote(id, support);
            if (support == 1) {
                if (idOf[i] == 0) {
                    pool += w;
                } else {
                    uint256 at = i;
                    for (uint256 j; j < i; ++j) {
                        if (idOf[j] == idOf[i]) {
                            at = j;
                            break;
                        }
                    }
                    sums[at] += w;
                }
            }
            _assertKeptIsTopK(id, k, sums, pool);
        }
    }

    /// @dev The kept entries 0..k-1 are the `k` largest of `sums` (descending), the pool entry `pool`, and
    ///      the residual the for tally less the `k` largest voices of the sums and the pool.
    function _assertKeptIsTopK(uint256 id, uint256 k, uint256[] memory sums, uint256 pool) internal view {
        uint256[] memory w = new uint256[](sums.length);
        for (uint256 i; i < sums.length; ++i) {
            w[i] = sums[i];
        }
        for (uint256 j; j < k; ++j) {
            uint256 best;
            uint256 at;
            for (uint256 i; i < w.length; ++i) {
                if (w[i] > best) (best, at) = (w[i], i);
            }
            assertEq(_kept(id, j), best);
            w[at] = 0;
        }
        assertEq(_kept(id, 15), pool);
        uint256[] memory voices = new uint256[](sums.length + 1);
        for (uint256 i; i < sums.length; ++i) {
            voices[i] = sums[i];
        }
        voices[sums.length] = pool;
        uint256 removed = _removeLargest(voices, k);
        (uint256 residual, uint256 kApplied) = governor.residualForVotes(id);
        assertEq(kApplied, k);
        uint256 f = _forVotes(id);
        assertEq(residual, f > removed ? f - removed : 0);
    }

    function _forVotes(uint256 id) internal view returns (uint256 f) {
        (, f,) = governor.proposalVotes(id);
    }
}
