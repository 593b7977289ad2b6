// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeResolver} from "../../../contracts/interfaces/IDisputes.sol";

/// @notice Stand-in registry for Slasher unit tests: answers the reads of `Slasher.checkTiming` with a
///         settable fault window, no resolver and no referee; it also acts as the authorised `registry` caller (pranked).
contract RegistryTimingStub {
    uint256 public faultWindow;

    function setFaultWindow(uint256 value) external {
        faultWindow = value;
    }

    function resolver() external pure returns (IDisputeResolver) {
        return IDisputeResolver(address(0));
    }

    function referee() external pure returns (IDisputeResolver) {
        return IDisputeResolver(address(0));
    }
}
