// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {GovernanceBase} from "../GovernanceBase.t.sol";
import {VetoSlasherStub} from "../mocks/VetoSlasherStub.sol";
import {GovernorHandler} from "./GovernorHandler.sol";

contract GovernorInvariants is GovernanceBase {
    GovernorHandler internal handler;
    VetoSlasherStub internal slasher;

    function setUp() public override {
        super.setUp();
        address[] memory voters = new address[](6);
        for (uint256 i; i < 6; ++i) {
            voters[i] = makeAddr(string(abi.encodePacked("voter", i)));
            _attested(voters[i], 100 * (i + 1));
        }
        _mine(2);
        slasher = new VetoSlasherStub(address(timelock), address(0));
        handler = new GovernorHandler(governor, slasher, voters);
        slasher.setRequester(address(handler));
        targetContract(address(handler));
    }

    /// @notice Nobody votes twice on a proposal.
    function invariant_NobodyVotesTwice() public view {
        assertEq(handler.doubleVotes(), 0);
    }

    /// @notice Nothing executes before its timelock eta.
    function invariant_NothingExecutesBeforeTimelock() public view {
        assertEq(handler.earlyExecutions(), 0);
    }

    /// @notice A vetoed slash never executes; an executed slash is in status Executed.
    function invariant_VetoedSlashNeverExecutes() public view {
        uint256 n = handler.slashCount();
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.slashIds(i);
            ISlasher.SlashStatus st = slasher.slashRequest(id).status;
            if (handler.ghostSlashExecuted(id)) {
                assertEq(uint256(st), uint256(ISlasher.SlashStatus.Executed));
            }
            if (st == ISlasher.SlashStatus.Vetoed) assertFalse(handler.ghostSlashExecuted(id));
        }
    }
}
