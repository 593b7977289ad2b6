// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title VetoSlasherStub
/// @notice The Slasher as governance sees it, for the governance tests: WrongResult slashes wait a veto
///         window in which only governance (the timelock) can veto; executed slashes are counted; `registry()`
///         is the wiring getter the governor follows. For a slasher that records `requestSlash` calls (registry
///         and staking tests), use `MockSlasher` (test/mocks/MockSlasher.sol).
contract VetoSlasherStub {
    uint48 public constant VETO_WINDOW = 3 days;

    address public governance;
    address public requester;
    uint256 public count;
    mapping(uint256 slashId => ISlasher.SlashRequest) private _req;
    uint256 public executedVetoed; // must stay zero

    error UnauthorizedCaller(address caller);
    error SlashNotPending(uint256 slashId, ISlasher.SlashStatus status);
    error VetoWindowOpen(uint256 slashId, uint48 executableAt);
    error VetoWindowClosed(uint256 slashId, uint48 executableAt);

    event SlashRequested(uint256 indexed slashId, address indexed operator, bytes32 ref);
    event SlashExecuted(uint256 indexed slashId);
    event SlashVetoed(uint256 indexed slashId);

    constructor(address governance_, address requester_) {
        governance = governance_;
        requester = requester_;
    }

    /// @notice ISlasher.checkTiming: this stand-in has no windows to check.
    function checkTiming() external pure {}

    function setRequester(address requester_) external {
        requester = requester_;
    }

    /// @dev The wiring getter the governor follows: the requester plays the registry.
    function registry() external view returns (address) {
        return requester;
    }

    function requestSlash(ISlasher.FaultKind kind, address operator, bytes32 ref, address reporter)
        external
        returns (uint256 slashId)
    {
        if (msg.sender != requester) revert UnauthorizedCaller(msg.sender);
        slashId = ++count;
        ISlasher.SlashRequest storage r = _req[slashId];
        r.operator = operator;
        r.reporter = reporter;
        r.kind = kind;
        r.status = ISlasher.SlashStatus.Pending;
        r.executableAt = SafeCast.toUint48(block.timestamp) + VETO_WINDOW;
        r.ref = ref;
        emit SlashRequested(slashId, operator, ref);
    }

    function executeSlash(uint256 slashId) external returns (uint256) {
        ISlasher.SlashRequest storage r = _req[slashId];
        if (r.status != ISlasher.SlashStatus.Pending) revert SlashNotPending(slashId, r.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < r.executableAt) revert VetoWindowOpen(slashId, r.executableAt);
        r.status = ISlasher.SlashStatus.Executed;
        emit SlashExecuted(slashId);
        return 1;
    }

    function vetoSlash(uint256 slashId) external {
        if (msg.sender != governance) revert UnauthorizedCaller(msg.sender);
        ISlasher.SlashRequest storage r = _req[slashId];
        if (r.status != ISlasher.SlashStatus.Pending) revert SlashNotPending(slashId, r.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= r.executableAt) revert VetoWindowClosed(slashId, r.executableAt);
        r.status = ISlasher.SlashStatus.Vetoed;
        emit SlashVetoed(slashId);
    }

    function slashRequest(uint256 slashId) external view returns (ISlasher.SlashRequest memory) {
        return _req[slashId];
    }
}
