// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpFixture} from "./IntMlpFixture.sol";
import {RefereeBase} from "./RefereeBase.sol";

/// @notice A model far larger than a block could re-execute (a 1024×1024 layer: ~1M multiply-adds): the game
///         still ends in a one-step check of a single element.
contract RefereeLargeTest is RefereeBase {
    function _model() internal pure override returns (IntMlpFixture.Model memory) {
        return IntMlpFixture.large();
    }

    function setUp() public {
        _deploy();
        bytes memory x = new bytes(1024);
        for (uint256 i; i < 1024; i += 32) {
            bytes32 h = keccak256(abi.encode("input", i));
            for (uint256 j; j < 32; ++j) {
                x[i + j] = h[j];
            }
        }
        _useModel(_model(), x);
    }

    /// @notice A consistent lie in element 700 of the 1024×1024 layer: the game descends 17 levels to that
    ///         element's chunk, the one-step check recomputes that one element (1,024 multiply-adds) and the
    ///         liar loses.
    function test_gameOnA1024x1024LayerEndsInOneElementCheck() public {
        int8 v = int8(uint8(honestActs[0][700]));
        assertTrue(_lie(0, 700, v == 127 ? int8(-1) : v + 1, false));
        uint256 gameId = _open(true);
        _commit(gameId, defender, liarActs);
        _commit(gameId, challenger, honestActs);
        _descend(gameId, liarActs, honestActs);
        Referee.Game memory g = referee.game(gameId);
        assertEq(uint8(g.phase), uint8(Referee.Phase.Step));
        assertEq(g.index >> 11, 0, "layer 0");
        assertEq((g.index & 2047) * 32 + 28, 700, "chunk 21, byte 28: element 700");
        Referee.StepProof memory p = _stepProof(gameId);
        assertEq(p.row.inputs, 1024);
        assertEq(p.row.row, 700);
        stepper.step(referee, gameId, p);
        assertEq(uint8(referee.game(gameId).outcome), uint8(Referee.Outcome.ChallengerWon));
        assertEq(reg.lastOutput(), _outHash(honestActs));
    }

    /// @notice The same in the second layer (1024 inputs proven against the agreed 1024-wide layer).
    function test_lieInTheLayerAfterTheLargeOneIsCheckedAgainstTheAgreedLayer() public {
        int8 v = int8(uint8(honestActs[1][9]));
        assertTrue(_lie(1, 9, v == 127 ? int8(-1) : v + 1, false));
        uint256 gameId = _playFull(false);
        Referee.Game memory g = referee.game(gameId);
        assertEq(g.index >> 11, 1);
        assertEq(uint8(g.outcome), uint8(Referee.Outcome.DefenderWon));
    }
}
