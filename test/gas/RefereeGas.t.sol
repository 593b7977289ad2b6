// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";
import {IntMlpFixture, StepHarness} from "../referee/IntMlpFixture.sol";
import {RefereeBase} from "../referee/RefereeBase.sol";
import {console} from "forge-std/Test.sol";

/// @notice Gas of a whole referee game, move by move (docs/referee.md, "Gas"): a lying defender against an
///         honest challenger on a generated 1024 → 1024 → 16 model, the lie in the 1024×1024 layer. Execution
///         gas of each call (the mock registry's ruling callback included in the last move); calldata and the
///         21,000 intrinsic gas are added in the document's table.
contract RefereeGameGasTest is RefereeBase {
    using IntMlpFixture for IntMlpFixture.Trace;

    function _model() internal pure override returns (IntMlpFixture.Model memory) {
        return IntMlpFixture.large();
    }

    function setUp() public {
        _deploy();
        bytes memory x = new bytes(1024);
        for (uint256 i; i < 1024; ++i) {
            x[i] = bytes1(uint8(i * 7));
        }
        _useModel(_model(), x);
        int8 v = int8(uint8(honestActs[1][3]));
        _lie(1, 3, v == 127 ? int8(-1) : v + 1, false);
    }

    /// @dev The commit's arguments are built first; only the referee's call is measured.
    function _measuredCommit(uint256 gameId, address who, bytes[] storage acts)
        internal
        returns (uint256 used)
    {
        IntMlpFixture.Trace memory t = _trace(acts);
        IntMlpStep.Row memory r = IntMlpFixture.row(_model(), 1, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        bytes32 root = t.root();
        bytes32[] memory lp = t.layerProof(1);
        bytes memory out = acts[1];
        vm.prank(who);
        uint256 g = gasleft();
        referee.commitTrace(gameId, root, out, lp, r, rp);
        used = g - gasleft();
    }

    function test_gas_referee_wholeGame_1024() public {
        uint256 gameId = _open(true);
        uint256 commitGas = _measuredCommit(gameId, defender, liarActs);
        uint256 total = commitGas + _measuredCommit(gameId, challenger, honestActs);
        console.log("commitTrace", commitGas);
        uint256 g;
        uint256 maxMove;
        for (uint256 d; d < 17; ++d) {
            (bytes32 a, bytes32 b) = _trace(liarActs).children(d, referee.game(gameId).index);
            vm.prank(defender);
            g = gasleft();
            referee.bisect(gameId, a, b);
            uint256 used = g - gasleft();
            total += used;
            if (used > maxMove) maxMove = used;
            (a, b) = _trace(honestActs).children(d, referee.game(gameId).index);
            vm.prank(challenger);
            g = gasleft();
            referee.bisect(gameId, a, b);
            used = g - gasleft();
            total += used;
            if (used > maxMove) maxMove = used;
        }
        console.log("bisect, largest move", maxMove);
        Referee.StepProof memory p = _stepProof(gameId);
        g = gasleft();
        stepper.step(referee, gameId, p);
        uint256 stepGas = g - gasleft();
        total += stepGas;
        console.log("step (1024 inputs, layer > 0)", stepGas);
        console.log("whole game (commits, 34 moves, step)", total);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
    }
}

/// @notice The one-step check's parts as a function of the layer's input width: the neuron (dot product,
///         requantization, activation), the input's vector root and the row's leaf hash.
contract RefereeStepGasTest is RefereeBase {
    function _model() internal pure override returns (IntMlpFixture.Model memory m) {}

    function _measure(uint32 width) internal returns (uint256 neuronGas, uint256 rootGas, uint256 leafGas) {
        StepHarness h = new StepHarness();
        uint32[] memory w = new uint32[](2);
        (w[0], w[1]) = (width, 1);
        uint8[] memory s = new uint8[](1);
        s[0] = 12;
        IntMlpFixture.Model memory m = IntMlpFixture.generate(width, w, s);
        IntMlpStep.Row memory r = IntMlpFixture.row(m, 0, 0);
        bytes memory x = r.weights; // any int8 vector of the width
        uint256 g = gasleft();
        h.neuron(r, x);
        neuronGas = g - gasleft();
        g = gasleft();
        h.vectorRoot(x);
        rootGas = g - gasleft();
        g = gasleft();
        h.rowLeaf(r);
        leafGas = g - gasleft();
    }

    function test_gas_referee_oneStepByWidth() public {
        uint32[6] memory widths = [uint32(64), 256, 1024, 4096, 16_384, 65_536];
        for (uint256 i; i < widths.length; ++i) {
            (uint256 n, uint256 r, uint256 l) = _measure(widths[i]);
            console.log("width", widths[i]);
            console.log("  neuron / vectorRoot / rowLeaf", n, r, l);
        }
    }
}
