// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";
import {IntMlpFixture} from "./IntMlpFixture.sol";
import {RefereeBase} from "./RefereeBase.sol";

/// @notice The game on a small generated model (widths 40 → 70 → 33 → 10: partial chunks, several chunks per
///         layer, ReLU and identity layers).
contract RefereeTest is RefereeBase {
    function _model() internal pure override returns (IntMlpFixture.Model memory) {
        uint32[] memory w = new uint32[](4);
        (w[0], w[1], w[2], w[3]) = (40, 70, 33, 10);
        uint8[] memory s = new uint8[](3);
        (s[0], s[1], s[2]) = (9, 10, 9);
        return IntMlpFixture.generate(1, w, s);
    }

    function setUp() public {
        _deploy();
        bytes memory x = new bytes(40);
        for (uint256 i; i < 40; ++i) {
            x[i] = bytes1(uint8(uint256(keccak256(abi.encode("x", i)))));
        }
        _useModel(_model(), x);
    }

    function _liarValue(uint256 layer, uint256 element) internal view returns (int8) {
        int8 v = int8(uint8(honestActs[layer][element]));
        return v == 127 ? int8(-3) : v + 1;
    }

    function test_lyingDefenderLosesAtItsFirstWrongElement() public {
        assertTrue(_lie(1, 30, _liarValue(1, 30), false));
        uint256 gameId = _playFull(true);
        Referee.Game memory g = referee.game(gameId);
        assertEq(uint8(g.outcome), uint8(Referee.Outcome.ChallengerWon));
        assertEq(g.index >> 11, 1, "layer of the first lie");
        assertEq(g.index & 2047, 0, "chunk of the first lie (element 30)");
        assertEq(reg.lastOutput(), _outHash(honestActs));
        assertTrue(reg.lastDecided());
        assertEq(reg.lastDispute(), gameId);
    }

    function test_honestDefenderBeatsALyingChallenger() public {
        assertTrue(_lie(0, 5, _liarValue(0, 5), false));
        uint256 gameId = _playFull(false);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.DefenderWon));
        assertEq(reg.lastOutput(), _outHash(honestActs));
    }

    function test_inconsistentLieInTheLastLayerIsCaughtThere() public {
        // Only the output is changed, the hidden layers are the honest ones.
        assertTrue(_lie(2, 3, _liarValue(2, 3), true));
        uint256 gameId = _playFull(true);
        Referee.Game memory g = referee.game(gameId);
        assertEq(g.index >> 11, 2);
        assertEq(uint8(g.outcome), uint8(Referee.Outcome.ChallengerWon));
    }

    function test_lieInAnotherLayersPaddingIsCheckedAgainstZero() public {
        // Layer 0 has 70 outputs: elements 70..95 of its third chunk are padding, zero in an honest trace.
        _lie(2, 3, _liarValue(2, 3), true);
        bytes memory padded = bytes.concat(liarActs[0], new bytes(0));
        liarActs[0] = padded;
        // A liar that puts a non-zero byte in the padding (as a 71-byte vector would) loses on it.
        bytes memory v = new bytes(71);
        for (uint256 i; i < 70; ++i) {
            v[i] = liarActs[0][i];
        }
        v[70] = bytes1(uint8(9));
        liarActs[0] = v;
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _descend(gameId, liarActs, honestActs);
        Referee.Game memory g = referee.game(gameId);
        assertEq(g.index >> 11, 0);
        assertEq(g.index & 2047, 2);
        stepper.step(referee, gameId, _stepProof(gameId));
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
    }

    function test_aDefendingOperatorsSignerMayMoveForIt() public {
        _lie(1, 2, _liarValue(1, 2), false);
        address hot = makeAddr("hot");
        signers.setSigner(defender2, hot);
        uint256 gameId = _open(false);
        IntMlpFixture.Trace memory t = _trace(honestActs);
        IntMlpStep.Row memory r = IntMlpFixture.row(_model(), 2, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        vm.prank(hot);
        referee.commitTrace(
            gameId, IntMlpFixture.root(t), honestActs[2], IntMlpFixture.layerProof(t, 2), r, rp
        );
        assertEq(referee.game(gameId).root[0], IntMlpFixture.root(t));
    }

    // ------------------------------------------------------------------ timeouts

    function test_sideThatDoesNotCommitLoses() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, challenger, honestActs);
        vm.warp(block.timestamp + WINDOW + 1);
        referee.timeout(gameId);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
        assertEq(reg.lastOutput(), _outHash(honestActs));
    }

    function test_nobodyCommittingIsNoDecision() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        vm.warp(block.timestamp + WINDOW + 1);
        referee.timeout(gameId);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.NoCommitment));
        assertFalse(reg.lastDecided());
    }

    function test_sideThatDoesNotBisectLoses() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _reveal(gameId, defender, liarActs);
        vm.warp(block.timestamp + WINDOW + 1);
        referee.timeout(gameId);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.DefenderWon));
    }

    function test_noStepByTheDeadlineLosesForTheDefender() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _descend(gameId, liarActs, honestActs);
        vm.warp(block.timestamp + WINDOW + 1);
        referee.timeout(gameId);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
    }

    function test_timeoutBeforeTheDeadlineReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        Referee.Game memory g = referee.game(gameId);
        vm.expectRevert(abi.encodeWithSelector(Referee.DeadlineNotPassed.selector, gameId, g.deadline));
        referee.timeout(gameId);
    }

    function test_everyGameEndsWithinMaxRulingDelay() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 start = block.timestamp;
        uint256 gameId = _open(true);
        // Each move at the last second of its window.
        vm.warp(block.timestamp + WINDOW);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        for (uint256 d; d < 17; ++d) {
            vm.warp(block.timestamp + WINDOW);
            _reveal(gameId, defender, liarActs);
            vm.warp(block.timestamp + WINDOW);
            _reveal(gameId, challenger, honestActs);
        }
        vm.warp(block.timestamp + WINDOW + 1);
        referee.timeout(gameId);
        assertLe(block.timestamp - start, referee.maxRulingDelay());
        assertEq(referee.maxRulingDelay(), 36 * WINDOW + 1);
    }

    // ------------------------------------------------------------------ bad input

    function test_movesOutOfTurnRevert() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        vm.expectRevert(abi.encodeWithSelector(Referee.NotYourTurn.selector, gameId, challenger));
        vm.prank(challenger);
        referee.bisect(gameId, bytes32(0), bytes32(0));
    }

    function test_movesAfterTheDeadlineRevert() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        Referee.Game memory g = referee.game(gameId);
        vm.warp(uint256(g.deadline) + 1);
        vm.expectRevert(abi.encodeWithSelector(Referee.MoveAfterDeadline.selector, gameId, g.deadline));
        vm.prank(defender);
        referee.bisect(gameId, bytes32(0), bytes32(0));
    }

    function test_strangersCannotMove() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        address stranger = makeAddr("stranger");
        vm.expectRevert(abi.encodeWithSelector(Referee.NotAParty.selector, gameId, stranger));
        vm.prank(stranger);
        referee.commitTrace(
            gameId,
            bytes32(uint256(1)),
            "",
            new bytes32[](0),
            IntMlpFixture.row(_model(), 2, 0),
            new bytes32[](0)
        );
    }

    function test_revealNotMatchingTheNodeReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        bytes32 node = referee.game(gameId).node[0];
        vm.expectRevert(abi.encodeWithSelector(Referee.InvalidReveal.selector, node));
        vm.prank(defender);
        referee.bisect(gameId, bytes32(uint256(1)), bytes32(uint256(2)));
    }

    function test_secondCommitOfASideReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        vm.expectRevert(abi.encodeWithSelector(Referee.AlreadyCommitted.selector, gameId, uint8(0)));
        _commit(gameId, defender2, liarActs);
    }

    function test_commitWithAnotherSidesOutputReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        bytes32 expected = _outHash(liarActs);
        vm.expectRevert(
            abi.encodeWithSelector(Referee.OutputMismatch.selector, expected, _outHash(honestActs))
        );
        _commit(gameId, defender, honestActs);
    }

    function test_commitWithATraceProofAgainstTheWrongRootReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        IntMlpFixture.Trace memory t = _trace(liarActs);
        IntMlpStep.Row memory r = IntMlpFixture.row(_model(), 2, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        bytes32[] memory lp = IntMlpFixture.layerProof(t, 2);
        vm.prank(defender);
        vm.expectRevert(Referee.InvalidTraceProof.selector);
        referee.commitTrace(gameId, IntMlpFixture.root(_trace(honestActs)), liarActs[2], lp, r, rp);
        // A malformed (short) trace proof.
        bytes32[] memory short = new bytes32[](5);
        vm.prank(defender);
        vm.expectRevert(abi.encodeWithSelector(IntMlpStep.WrongProofLength.selector, 5, 6));
        referee.commitTrace(gameId, IntMlpFixture.root(t), liarActs[2], short, r, rp);
    }

    function test_rowProofAgainstTheWrongRootReverts() public {
        _lie(1, 2, _liarValue(1, 2), false);
        uint256 gameId = _open(true);
        IntMlpFixture.Trace memory t = _trace(liarActs);
        IntMlpStep.Row memory r = IntMlpFixture.row(_model(), 2, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        r.bias += 1; // a row the model does not have
        vm.prank(defender);
        vm.expectRevert(Referee.InvalidRowProof.selector);
        referee.commitTrace(gameId, IntMlpFixture.root(t), liarActs[2], IntMlpFixture.layerProof(t, 2), r, rp);
        // A row of another layer than the last.
        IntMlpStep.Row memory r1 = IntMlpFixture.row(_model(), 1, 0);
        bytes32[] memory rp1 = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r1));
        vm.prank(defender);
        vm.expectRevert(abi.encodeWithSelector(Referee.WrongRow.selector, 1, 0));
        referee.commitTrace(
            gameId, IntMlpFixture.root(t), liarActs[2], IntMlpFixture.layerProof(t, 2), r1, rp1
        );
    }

    function test_stepWithWrongDataReverts() public {
        _lie(1, 30, _liarValue(1, 30), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _descend(gameId, liarActs, honestActs);
        Referee.StepProof memory p = _stepProof(gameId);
        // Input not the agreed previous layer.
        Referee.StepProof memory bad = _stepProof(gameId);
        bad.input = bytes.concat(bad.input);
        bad.input[0] = bytes1(uint8(bad.input[0]) ^ 1);
        vm.expectRevert(Referee.InvalidTraceProof.selector);
        stepper.step(referee, gameId, bad);
        // Another row of the right layer.
        bad = _stepProof(gameId);
        bad.row = IntMlpFixture.row(_model(), 1, 29);
        bad.rowProof = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(bad.row));
        vm.expectRevert(abi.encodeWithSelector(Referee.WrongRow.selector, 1, 29));
        stepper.step(referee, gameId, bad);
        // A malformed row proof.
        bad = _stepProof(gameId);
        bad.rowProof = new bytes32[](1);
        vm.expectRevert(Referee.InvalidRowProof.selector);
        stepper.step(referee, gameId, bad);
        stepper.step(referee, gameId, p);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
        vm.expectRevert(abi.encodeWithSelector(Referee.WrongPhase.selector, gameId, Referee.Phase.Done));
        stepper.step(referee, gameId, p);
    }

    function test_layerZeroStepNeedsTheRequestInput() public {
        _lie(0, 3, _liarValue(0, 3), false);
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _descend(gameId, liarActs, honestActs);
        Referee.StepProof memory bad = _stepProof(gameId);
        bad.input = bytes.concat(bad.input);
        bad.input[1] = bytes1(uint8(bad.input[1]) ^ 1);
        vm.expectRevert(
            abi.encodeWithSelector(Referee.InputMismatch.selector, keccak256(input), keccak256(bad.input))
        );
        stepper.step(referee, gameId, bad);
    }

    function test_challengerWhoIsADefenderOrItsSignerOrIdentityIsRefused() public {
        _lie(1, 2, _liarValue(1, 2), false);
        bytes32 h = _outHash(honestActs);
        bytes32 l = _outHash(liarActs);
        reg.answer(defender, l);
        vm.expectRevert(abi.encodeWithSelector(Referee.SameParty.selector, defender, defender));
        reg.open(REQUEST, l, h, defender);
        address hot = makeAddr("hot");
        signers.setSigner(defender, hot);
        vm.expectRevert(abi.encodeWithSelector(Referee.SameParty.selector, hot, defender));
        reg.open(REQUEST, l, h, hot);
        ids.link(defender, 42);
        ids.link(challenger, 42);
        vm.expectRevert(abi.encodeWithSelector(Referee.SameParty.selector, challenger, defender));
        reg.open(REQUEST, l, h, challenger);
    }

    function test_ineligibleModelsAndSecondGamesAreRefused() public {
        _lie(1, 2, _liarValue(1, 2), false);
        bytes32 h = _outHash(honestActs);
        bytes32 l = _outHash(liarActs);
        reg.setRequest(keccak256("model"), keccak256(input), tree[0], keccak256("an LLM spec"), false);
        vm.expectRevert(abi.encodeWithSelector(Referee.IneligibleModel.selector, keccak256("model")));
        reg.open(REQUEST, l, h, challenger);
        reg.setRequest(keccak256("model"), keccak256(input), tree[0], IntMlpStep.RUNTIME_SPEC_HASH, true);
        vm.expectRevert(abi.encodeWithSelector(Referee.IneligibleModel.selector, keccak256("model")));
        reg.open(REQUEST, l, h, challenger);
        reg.setRequest(keccak256("model"), keccak256(input), tree[0], IntMlpStep.RUNTIME_SPEC_HASH, false);
        uint256 gameId = _open(true);
        vm.expectRevert(abi.encodeWithSelector(Referee.GameAlreadyOpen.selector, REQUEST, gameId));
        reg.open(REQUEST, bytes32(uint256(5)), bytes32(uint256(6)), challenger);
    }

    function test_onlyTheRegistryOpensGames() public {
        bytes32[] memory c = new bytes32[](2);
        vm.expectRevert(abi.encodeWithSelector(Referee.UnauthorizedCaller.selector, address(this)));
        referee.openDispute(1, c, new address[](0), challenger);
    }

    function test_moveWindowIsBounded() public {
        vm.expectRevert(abi.encodeWithSelector(Referee.MoveWindowOutOfBounds.selector, 1 days + 1));
        new Referee(address(reg), address(signers), address(0), 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(Referee.MoveWindowOutOfBounds.selector, 1));
        new Referee(address(reg), address(signers), address(0), 1);
    }

    // ------------------------------------------------------------------ fuzz

    /// @notice Wherever the liar lies (any layer, element, value, consistent or not), the honest side wins,
    ///         on either side of the game.
    function testFuzz_honestSideWinsWhereverTheLie(
        uint256 layer,
        uint256 element,
        int8 value,
        bool inconsistent,
        bool liarDefends
    ) public {
        layer = bound(layer, 0, 2);
        element = bound(element, 0, honestActs[layer].length - 1);
        vm.assume(int8(uint8(honestActs[layer][element])) != value);
        vm.assume(_lie(layer, element, value, inconsistent));
        uint256 gameId = _playFull(liarDefends);
        Referee.Game memory g = referee.game(gameId);
        assertEq(
            uint8(g.outcome), uint8(liarDefends ? Referee.Outcome.ChallengerWon : Referee.Outcome.DefenderWon)
        );
        assertEq(reg.lastOutput(), _outHash(honestActs));
        assertEq(g.index >> 11, layer, "the game ends at the first lie's layer");
    }
}
