// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeReceiver, IDisputeResolver} from "../../../contracts/interfaces/IDisputes.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";

/// @notice Stand-in for the registry: opens disputes and, on a ruling, requests a WrongResult slash of every
///         involved operator whose output lost (when a slasher is set).
contract MockDisputeReceiver is IDisputeReceiver {
    struct Opened {
        bytes32[] candidates;
        address[] operators; // operators[i] produced candidates[i]
        address challenger;
        bool resolved;
        bool decided;
        bytes32 outcome;
    }

    IDisputeResolver public resolver;
    ISlasher public slasher;
    mapping(uint256 disputeId => Opened) private _opened;
    uint256 public rulings;

    error UnauthorizedCaller(address caller);
    error AlreadyResolved(uint256 disputeId);

    event Resolved(uint256 indexed disputeId, bytes32 outcome);

    constructor(IDisputeResolver resolver_) {
        resolver = resolver_;
    }

    function setSlasher(ISlasher slasher_) external {
        slasher = slasher_;
    }

    function open(
        uint256 requestId,
        bytes32[] calldata candidates,
        address[] calldata operators,
        address challenger
    ) external returns (uint256 disputeId) {
        address[] memory involved = new address[](operators.length + 1);
        for (uint256 i; i < operators.length; ++i) {
            involved[i] = operators[i];
        }
        involved[operators.length] = challenger;
        disputeId = resolver.openDispute(requestId, candidates, involved, challenger);
        Opened storage o = _opened[disputeId];
        o.candidates = candidates;
        o.operators = operators;
        o.challenger = challenger;
    }

    function onDisputeResolved(uint256 disputeId, bytes32 outputHash, bool decided) external {
        if (msg.sender != address(resolver)) revert UnauthorizedCaller(msg.sender);
        Opened storage o = _opened[disputeId];
        if (o.resolved) revert AlreadyResolved(disputeId);
        o.resolved = true;
        o.decided = decided;
        o.outcome = outputHash;
        ++rulings;
        emit Resolved(disputeId, outputHash);
        if (address(slasher) == address(0) || !decided) return;
        for (uint256 i; i < o.operators.length; ++i) {
            if (o.candidates[i] != outputHash) {
                slasher.requestSlash(
                    ISlasher.FaultKind.WrongResult, o.operators[i], bytes32(disputeId), o.challenger
                );
            }
        }
    }

    function outcomeOf(uint256 disputeId) external view returns (bool resolved, bytes32 outcome) {
        Opened storage o = _opened[disputeId];
        return (o.resolved, o.outcome);
    }

    function decidedOf(uint256 disputeId) external view returns (bool) {
        return _opened[disputeId].decided;
    }
}
