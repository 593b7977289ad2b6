// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeJuryBase} from "../governance/DisputeJuryBase.sol";
import {console} from "forge-std/console.sol";

/// @notice Gas of the drafted jury's steps on the DeploySuite wiring: join, draw (5 seats from 31 jurors,
///         each checked against 4 involved addresses), a juror's commit and reveal, and settlement. Execution gas measured
///         with gasleft() around the call, contracts cooled (vm.cool) as in a fresh transaction.
contract JuryGasTest is DisputeJuryBase {
    uint256 internal did;

    function setUp() public override {
        super.setUp();
        _setJury(31, 5, 0);
        _jurors(31, JBOND);
        _advance(12);
        (, did) = _dispute();
        vm.roll(block.number + 1);
    }

    function _cool() internal {
        vm.cool(address(s.disputes));
        vm.cool(address(pool));
        vm.cool(address(s.staking));
        vm.cool(address(s.votes));
    }

    function test_gas_jury_joinJury() public {
        address a = _attested("late");
        s.disputes.draw(did); // thaw the pool
        _cool();
        vm.prank(a);
        uint256 g = gasleft();
        pool.joinJury(JBOND);
        console.log("joinJury (32nd juror) execution gas", g - gasleft());
        assertEq(pool.juror(a).bond, JBOND);
    }

    function test_gas_jury_draw5of31() public {
        _cool();
        uint256 g = gasleft();
        s.disputes.draw(did);
        console.log("draw 5 of 31 execution gas", g - gasleft());
        assertEq(pool.draftedJurors(did, 0).length, 5);
    }

    function test_gas_jury_commitVote() public {
        s.disputes.draw(did);
        address j = pool.draftedJurors(did, 0)[0];
        bytes32 h = pool.voteCommitment(_option(did, OUT_A), _salt(did, j), j, did, 0);
        _cool();
        vm.prank(j);
        uint256 g = gasleft();
        s.disputes.commitVote(did, h);
        console.log("jury commitVote execution gas", g - gasleft());
        assertEq(pool.seatOf(did, 0, j), pool.SEAT_COMMITTED());
    }

    function test_gas_jury_revealVote() public {
        s.disputes.draw(did);
        address j = pool.draftedJurors(did, 0)[0];
        uint8 a = _option(did, OUT_A);
        _commit(did, j, a);
        _toReveal(did);
        bytes32 salt = _salt(did, j);
        _cool();
        vm.prank(j);
        uint256 g = gasleft();
        s.disputes.revealVote(did, a, salt);
        console.log("jury revealVote execution gas", g - gasleft());
        assertEq(pool.seatOf(did, 0, j), pool.SEAT_REVEALED() + a);
    }

    function test_gas_jury_settle5() public {
        s.disputes.draw(did);
        address[] memory d = pool.draftedJurors(did, 0);
        uint8 a = _option(did, OUT_A);
        for (uint256 i; i < 4; ++i) {
            _vote(did, d[i], a);
        }
        _resolve(did);
        _advanceTo(s.disputes.dispute(did).executableAt);
        s.disputes.execute(did);
        _cool();
        uint256 g = gasleft();
        s.disputes.settleJury(did);
        console.log("settleJury (5 seats) execution gas", g - gasleft());
        assertTrue(s.disputes.juryCase(did).settled);
    }
}
