// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Referee} from "../../../contracts/referee/Referee.sol";
import {IntMlpFixture} from "../IntMlpFixture.sol";
import {RefereeBase} from "../RefereeBase.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Drives one game per sequence: the honest side always plays its correct move when it is due, the
///         liar picks each time among its correct move, a garbage move (reverts), doing nothing, and the clock
///         jumps; anyone may call `timeout` or `step`.
contract RefereeHandler is RefereeBase {
    using IntMlpFixture for IntMlpFixture.Trace;

    bool public liarDefends;
    uint256 public gameId;
    uint256 public openedAt;

    function _model() internal pure override returns (IntMlpFixture.Model memory) {
        uint32[] memory w = new uint32[](3);
        (w[0], w[1], w[2]) = (24, 40, 6);
        uint8[] memory s = new uint8[](2);
        (s[0], s[1]) = (9, 9);
        return IntMlpFixture.generate(3, w, s);
    }

    constructor(uint256 seed) {
        _deploy();
        bytes memory x = new bytes(24);
        for (uint256 i; i < 24; ++i) {
            x[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        }
        _useModel(_model(), x);
        liarDefends = seed % 2 == 0;
        uint256 layer = seed % 2;
        uint256 element = (seed >> 8) % honestActs[layer].length;
        int8 v = int8(uint8(honestActs[layer][element]));
        _lie(layer, element, v == 127 ? int8(-5) : v + 1, (seed >> 16) % 2 == 0);
        openedAt = block.timestamp;
        gameId = _open(liarDefends);
    }

    function _over() internal view returns (bool) {
        return referee.game(gameId).phase == Referee.Phase.Done;
    }

    function honestMoves() public {
        if (_over()) return;
        Referee.Game memory g = referee.game(gameId);
        if (block.timestamp > g.deadline) return;
        uint8 hs = liarDefends ? 1 : 0;
        address who = liarDefends ? challenger : defender;
        if (g.phase == Referee.Phase.Commit && g.root[hs] == bytes32(0)) {
            _commit(gameId, who, honestActs);
        } else if (g.phase == Referee.Phase.Bisect && (g.challengerToMove == (hs == 1))) {
            _reveal(gameId, who, honestActs);
        } else if (g.phase == Referee.Phase.Step) {
            stepper.step(referee, gameId, _stepProof(gameId));
        }
    }

    function liarMoves(uint8 choice) public {
        if (_over()) return;
        Referee.Game memory g = referee.game(gameId);
        if (block.timestamp > g.deadline) return;
        uint8 ls = liarDefends ? 0 : 1;
        address who = liarDefends ? defender : challenger;
        choice %= 3;
        if (choice == 2) return; // stays silent
        if (choice == 1) {
            vm.prank(who);
            try referee.bisect(gameId, bytes32(uint256(1)), bytes32(uint256(2))) {} catch {}
            return;
        }
        if (g.phase == Referee.Phase.Commit && g.root[ls] == bytes32(0)) {
            _commit(gameId, who, liarActs);
        } else if (g.phase == Referee.Phase.Bisect && (g.challengerToMove == (ls == 1))) {
            _reveal(gameId, who, liarActs);
        }
    }

    /// @dev The honest side is always online: before time passes it makes every move that is due. One move
    ///      can make the next one due too (the second commitment opens the bisection, whose first move may
    ///      be the honest side's), so it moves until it is not its turn; four passes cover every chain.
    function _honestCatchesUp() internal {
        for (uint256 i; i < 4; ++i) {
            honestMoves();
        }
    }

    /// @notice The clock moves; the honest side (always online) first makes every move that is due.
    function warp(uint32 secs) public {
        _honestCatchesUp();
        vm.warp(block.timestamp + bound(secs, 0, 2 * WINDOW));
    }

    function anyoneTimesOut() public {
        _honestCatchesUp();
        if (_over()) return;
        if (block.timestamp <= referee.game(gameId).deadline) return;
        referee.timeout(gameId);
    }

    function refereeOf() external view returns (Referee) {
        return referee;
    }
}

contract RefereeInvariantTest is Test {
    RefereeHandler internal h;

    function setUp() public {
        h = new RefereeHandler(uint256(keccak256("referee invariant")));
        targetContract(address(h));
        bytes4[] memory sel = new bytes4[](4);
        (sel[0], sel[1], sel[2], sel[3]) =
        (h.honestMoves.selector, h.liarMoves.selector, h.warp.selector, h.anyoneTimesOut.selector);
        targetSelector(FuzzSelector({addr: address(h), selectors: sel}));
    }

    /// @notice The honest side never loses: a finished game is won by it and rules its output.
    function invariant_honestSideNeverLoses() public view {
        Referee.Game memory g = h.refereeOf().game(h.gameId());
        if (g.phase != Referee.Phase.Done) return;
        Referee.Outcome honestWin =
            h.liarDefends() ? Referee.Outcome.ChallengerWon : Referee.Outcome.DefenderWon;
        assertEq(uint8(g.outcome), uint8(honestWin));
    }

    /// @notice Every game ends by its deadline: no deadline of a running game lies past the game's opening plus
    ///         `maxRulingDelay`, so `timeout` ends every game by then.
    function invariant_gameEndsByItsDeadline() public view {
        Referee r = h.refereeOf();
        Referee.Game memory g = r.game(h.gameId());
        if (g.phase == Referee.Phase.Done) return;
        assertLe(uint256(g.deadline), h.openedAt() + r.maxRulingDelay());
    }
}
