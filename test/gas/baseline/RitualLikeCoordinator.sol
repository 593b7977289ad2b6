// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The consumer side of `RitualLikeCoordinator`.
interface IRitualLikeConsumer {
    function rawReceiveCompute(uint256 subId, address node, bytes calldata output) external;
}

/// @title RitualLikeCoordinator
/// @notice A minimal coordinator in the style of Ritual Infernet's `Coordinator`, written from the concept for a
///         side-by-side gas comparison: a request (subscription) names a consumer and a redundancy; each node's
///         delivery is counted and paid, and calls the consumer directly with the output: no gas metering and no
///         isolation (a reverting consumer reverts the delivery), no agreement check between the nodes.
contract RitualLikeCoordinator {
    struct Subscription {
        address owner;
        address consumer;
        uint16 redundancy;
        uint16 delivered;
        uint96 feePerNode;
        bytes32 inputHash;
    }

    IERC20 public immutable token;
    uint256 public subscriptionCount;
    mapping(uint256 subId => Subscription) public subscriptions;
    mapping(uint256 subId => mapping(address node => bool)) public hasDelivered;
    mapping(address node => uint256) public credits;

    error AlreadyDelivered();
    error RedundancyMet();

    event SubscriptionCreated(uint256 indexed subId, address indexed consumer);
    event ComputeDelivered(uint256 indexed subId, address indexed node);

    constructor(IERC20 token_) {
        token = token_;
    }

    function createSubscription(address consumer, uint16 redundancy, uint96 feePerNode, bytes32 inputHash)
        external
        returns (uint256 subId)
    {
        subId = ++subscriptionCount;
        subscriptions[subId] = Subscription(msg.sender, consumer, redundancy, 0, feePerNode, inputHash);
        token.transferFrom(msg.sender, address(this), uint256(feePerNode) * redundancy);
        emit SubscriptionCreated(subId, consumer);
    }

    function deliverCompute(uint256 subId, bytes calldata output) external {
        Subscription storage s = subscriptions[subId];
        if (s.delivered >= s.redundancy) revert RedundancyMet();
        if (hasDelivered[subId][msg.sender]) revert AlreadyDelivered();
        hasDelivered[subId][msg.sender] = true;
        ++s.delivered;
        credits[msg.sender] += s.feePerNode;
        emit ComputeDelivered(subId, msg.sender);
        IRitualLikeConsumer(s.consumer).rawReceiveCompute(subId, msg.sender, output);
    }
}
