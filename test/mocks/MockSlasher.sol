// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";

/// @notice Records requestSlash calls; rejects duplicates like the real Slasher; can be told to revert.
contract MockSlasher {
    struct Call {
        ISlasher.FaultKind kind;
        address operator;
        bytes32 ref;
        address reporter;
    }

    Call[] public calls;
    bool public shouldRevert;
    mapping(bytes32 key => bool) public seen;

    /// @notice Test knob: `checkTiming` reverts (a setter broke a timing invariant).
    bool public timingBroken;

    function setShouldRevert(bool v) external {
        shouldRevert = v;
    }

    function setTimingBroken(bool v) external {
        timingBroken = v;
    }

    /// @notice ISlasher.checkTiming: reverts when told to (`setTimingBroken`).
    function checkTiming() external view {
        if (timingBroken) revert ISlasher.TimingInvariantViolated("mock", 1, 0);
    }

    function requestSlash(ISlasher.FaultKind kind, address operator, bytes32 ref, address reporter)
        external
        returns (uint256 slashId)
    {
        if (shouldRevert) revert ISlasher.SlashRoundsToZero(operator);
        bytes32 key = keccak256(abi.encode(kind, operator, ref));
        if (seen[key]) revert ISlasher.AlreadySlashed(operator, kind, ref);
        seen[key] = true;
        calls.push(Call(kind, operator, ref, reporter));
        return calls.length;
    }

    function callCount() external view returns (uint256) {
        return calls.length;
    }

    function wasSlashed(ISlasher.FaultKind kind, address operator, bytes32 ref) external view returns (bool) {
        return seen[keccak256(abi.encode(kind, operator, ref))];
    }

    function lastCall() external view returns (Call memory) {
        return calls[calls.length - 1];
    }
}
