// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Slasher} from "../../../contracts/slashing/Slasher.sol";
import {MockStakingToken} from "../../mocks/MockStaking.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice Drives Slasher + an IStaking (mock or real) with random stake flows, slashes, vetoes, parameter
///         changes and time; keeps ghost books that the invariants compare with the contracts.
contract SlasherHandler is CommonBase, StdCheats, StdUtils {
    struct GhostWindow {
        uint256 end;
        uint256 capBps;
        uint256 base;
        uint256 used;
    }

    /// @dev What an execution started from: the operator's slashable stake, the cap parameters in force,
    ///      the slasher's total, and the slash's outstanding amount and status.
    struct Before {
        uint256 slashable;
        uint256 capBps;
        uint256 capWindow;
        uint256 total;
        uint256 outstanding;
        ISlasher.SlashStatus status;
    }

    Slasher public immutable slasher;
    IStaking public immutable staking;
    MockStakingToken public immutable token;
    address public immutable registry;
    address public immutable governance;
    address public immutable admin;
    address public immutable treasury;

    address[] public operators;
    address[] public actors;
    address[] public reporters;

    uint256[] public withdrawalIds;
    uint256[] public vetoedIds;
    uint256[] public pendingIds;

    // ghost books
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed;
    uint256 public ghostCapViolations;
    uint256 public ghostExecutions;
    uint256 public ghostAccountingErrors;
    /// @dev Installments that differ from min(outstanding, slashable, room left in the modelled window).
    uint256 public ghostInstallmentErrors;
    /// @dev Requests whose frozen amount differs from ceil(slashable at request * slashBps).
    uint256 public ghostOwedErrors;
    /// @dev Executions that ended a slash with something unpaid although the operator kept stake.
    uint256 public ghostTruncations;
    mapping(address => GhostWindow) public ghostWindow;
    /// @dev Per slash id: the amount owed computed independently at request, and the installments summed.
    mapping(uint256 slashId => uint256) public ghostOwed;
    mapping(uint256 slashId => uint256) public ghostPaid;
    mapping(bytes32 => uint256) public calls;

    constructor(
        Slasher slasher_,
        IStaking staking_,
        MockStakingToken token_,
        address[3] memory roles, // registry, governance, admin
        address treasury_,
        address[] memory operators_
    ) {
        slasher = slasher_;
        staking = staking_;
        token = token_;
        registry = roles[0];
        governance = roles[1];
        admin = roles[2];
        treasury = treasury_;
        operators = operators_;
        for (uint256 i; i < operators_.length; ++i) {
            actors.push(operators_[i]);
        }
        actors.push(makeAddr("delegatorA"));
        actors.push(makeAddr("delegatorB"));
        reporters.push(makeAddr("reporterA"));
        reporters.push(makeAddr("reporterB"));
        reporters.push(address(0));
    }

    // ------------------------------------------------------------------ stake flows
    /// @notice Records the initial self-stakes registered by the invariant suite's setUp.
    function recordDeposit(uint256 amount) external {
        ghostDeposited += amount;
    }

    function delegate(uint256 actorSeed, uint256 opSeed, uint256 amount) external {
        address actor = actors[actorSeed % actors.length];
        address op = operators[opSeed % operators.length];
        amount = _bound(amount, 1, 1e24);
        token.mint(actor, amount);
        vm.startPrank(actor);
        token.approve(address(staking), amount);
        try staking.delegate(op, amount) {
            ghostDeposited += amount;
            calls["delegate"]++;
        } catch {}
        vm.stopPrank();
    }

    function requestUnstake(uint256 actorSeed, uint256 opSeed, uint256 fraction) external {
        address actor = actors[actorSeed % actors.length];
        address op = operators[opSeed % operators.length];
        uint256 shares = staking.sharesOf(op, actor);
        if (shares == 0) return;
        shares = _bound(fraction, 1, shares);
        vm.prank(actor);
        try staking.requestUnstake(op, shares) returns (uint256 id) {
            withdrawalIds.push(id);
            calls["requestUnstake"]++;
        } catch {}
    }

    /// @dev `waitOut` jumps to the unlock time first.
    function completeUnstake(uint256 idxSeed, bool waitOut) external {
        if (withdrawalIds.length == 0) return;
        uint256 id = withdrawalIds[idxSeed % withdrawalIds.length];
        IStaking.Withdrawal memory w = staking.withdrawal(id);
        if (w.completed) return;
        if (waitOut && _now() < w.unlockAt) vm.warp(w.unlockAt);
        vm.prank(w.owner);
        try staking.completeUnstake(id) returns (uint256 assets) {
            ghostWithdrawn += assets;
            calls["completeUnstake"]++;
        } catch {}
    }

    // ------------------------------------------------------------------ slashing
    function requestSlash(
        uint256 kindSeed,
        uint256 opSeed,
        uint256 refSeed,
        uint256 reporterSeed,
        bool viaGov
    ) external {
        ISlasher.FaultKind kind = ISlasher.FaultKind(kindSeed % 3);
        address op = operators[opSeed % operators.length];
        bytes32 ref = bytes32(refSeed % 16); // small ref space: exercises AlreadySlashed
        address reporter = reporters[reporterSeed % reporters.length];
        Before memory b = _snapshot(op);
        uint256 slashBps = slasher.faultParams(kind).slashBps;
        vm.prank(viaGov ? governance : registry);
        try slasher.requestSlash(kind, op, ref, reporter) returns (uint256 id) {
            calls["requestSlash"]++;
            uint256 owed = (b.slashable * slashBps + 9999) / 10_000;
            ghostOwed[id] = owed;
            (uint256 recorded,,) = slasher.slashAmounts(id);
            if (recorded != owed || owed == 0) ghostOwedErrors++;
            ISlasher.SlashStatus status = slasher.slashRequest(id).status;
            if (status == ISlasher.SlashStatus.Pending) {
                pendingIds.push(id);
            } else {
                b.outstanding = owed;
                b.status = ISlasher.SlashStatus.Pending;
                if (status == ISlasher.SlashStatus.PartiallyExecuted) pendingIds.push(id);
                _afterExecution(id, op, b);
            }
        } catch {}
    }

    /// @dev Prefers unfinished slashes (any id otherwise); `waitOut` jumps to the end of the veto window,
    ///      or for a deferred remainder to the end of the operator's cap window, first.
    function executeSlash(uint256 idSeed, bool waitOut) external {
        uint256 id = _pickId(idSeed);
        if (id == 0) return;
        ISlasher.SlashRequest memory r = slasher.slashRequest(id);
        if (waitOut && r.status == ISlasher.SlashStatus.Pending && _now() < r.executableAt) {
            vm.warp(r.executableAt);
        }
        if (waitOut && r.status == ISlasher.SlashStatus.PartiallyExecuted) {
            (,, uint48 end) = slasher.capUsage(r.operator);
            if (end != 0) vm.warp(end);
        }
        Before memory b = _snapshot(r.operator);
        (,, b.outstanding) = slasher.slashAmounts(id);
        b.status = r.status;
        try slasher.executeSlash(id) {
            calls["executeSlash"]++;
            if (slasher.slashRequest(id).status != ISlasher.SlashStatus.PartiallyExecuted) {
                _removePending(id);
            } else {
                calls["deferred"]++;
            }
            _afterExecution(id, r.operator, b);
        } catch {}
    }

    function vetoSlash(uint256 idSeed) external {
        uint256 id = _pickId(idSeed);
        if (id == 0) return;
        vm.prank(governance);
        try slasher.vetoSlash(id) {
            vetoedIds.push(id);
            _removePending(id);
            calls["vetoSlash"]++;
        } catch {}
    }

    function _pickId(uint256 seed) private view returns (uint256) {
        if (pendingIds.length != 0 && seed % 4 != 0) return pendingIds[seed % pendingIds.length];
        uint256 count = slasher.slashCount();
        return count == 0 ? 0 : 1 + seed % count;
    }

    function _removePending(uint256 id) private {
        for (uint256 i; i < pendingIds.length; ++i) {
            if (pendingIds[i] == id) {
                pendingIds[i] = pendingIds[pendingIds.length - 1];
                pendingIds.pop();
                return;
            }
        }
    }

    // ------------------------------------------------------------------ admin and time
    function setFaultParams(uint256 kindSeed, uint16 s, uint16 r, uint32 v, uint32 j) external {
        ISlasher.FaultKind kind = ISlasher.FaultKind(kindSeed % 3);
        ISlasher.FaultParams memory p = ISlasher.FaultParams({
            slashBps: uint16(_bound(s, 1, 5000)),
            reporterBps: uint16(_bound(r, 0, 5000)),
            vetoWindow: kind == ISlasher.FaultKind.WrongResult ? uint32(_bound(v, 1 hours, 14 days)) : 0,
            jailDuration: uint32(_bound(j, 0, 30 days))
        });
        vm.prank(admin);
        slasher.setFaultParams(kind, p);
        calls["setFaultParams"]++;
    }

    function setCap(uint16 capBps, uint32 capWindow) external {
        vm.startPrank(admin);
        slasher.setCapBps(uint16(_bound(capBps, 100, 10_000)));
        slasher.setCapWindow(uint32(_bound(capWindow, 1 days, 30 days)));
        vm.stopPrank();
        calls["setCap"]++;
    }

    function toggleSink() external {
        address next = slasher.treasury() == address(0) ? treasury : address(0);
        vm.prank(admin);
        slasher.setTreasury(next);
        calls["toggleSink"]++;
    }

    function warp(uint256 secondsForward) external {
        vm.warp(block.timestamp + _bound(secondsForward, 1, 8 days));
        vm.roll(block.number + 1);
    }

    // ------------------------------------------------------------------ views for invariants
    function operatorCount() external view returns (uint256) {
        return operators.length;
    }

    function reporterCount() external view returns (uint256) {
        return reporters.length;
    }

    function vetoedCount() external view returns (uint256) {
        return vetoedIds.length;
    }

    /// @notice Active + unbonding assets over all operators.
    function totalSlashable() public view returns (uint256 sum) {
        for (uint256 i; i < operators.length; ++i) {
            IStaking.OperatorInfo memory info = staking.operatorInfo(operators[i]);
            sum += info.activeStake + info.unbondingStake;
        }
    }

    // ------------------------------------------------------------------ internals
    function _now() private view returns (uint48) {
        return Time.timestamp();
    }

    function _snapshot(address op) private view returns (Before memory b) {
        IStaking.OperatorInfo memory info = staking.operatorInfo(op);
        b.slashable = info.activeStake + info.unbondingStake;
        b.capBps = slasher.capBps();
        b.capWindow = slasher.capWindow();
        b.total = slasher.totalSlashed();
    }

    /// @dev Independent model of one execution of `id`: a window opens at the first execution at or after
    ///      the previous window's end, with base = the slashable stake then and the cap parameters in force
    ///      then; inside a window the base only grows, to slashable + used. The installment must be exactly
    ///      min(outstanding, slashable, cap - used), and a slash may end unpaid only when it took the last
    ///      stake.
    function _afterExecution(uint256 id, address op, Before memory b) private {
        // measured on the staking side: the only stake change inside this call is the slash
        IStaking.OperatorInfo memory info = staking.operatorInfo(op);
        uint256 amount = b.slashable - (info.activeStake + info.unbondingStake);
        if (slasher.totalSlashed() - b.total != amount) ghostAccountingErrors++;
        ghostExecutions++;
        ghostSlashed += amount;
        ghostPaid[id] += amount;

        GhostWindow storage w = ghostWindow[op];
        if (_now() >= w.end) {
            w.end = block.timestamp + b.capWindow;
            w.capBps = b.capBps;
            w.base = b.slashable;
            w.used = 0;
        } else if (b.slashable + w.used > w.base) {
            w.base = b.slashable + w.used;
        }
        uint256 cap = (w.base * w.capBps + 9999) / 10_000;
        uint256 expected = b.outstanding < b.slashable ? b.outstanding : b.slashable;
        if (expected > cap - w.used) expected = cap - w.used;
        if (amount != expected) ghostInstallmentErrors++;
        w.used += amount;
        if (w.used > cap || amount > b.slashable) ghostCapViolations++;

        (,, uint256 outstanding) = slasher.slashAmounts(id);
        ISlasher.SlashStatus status = slasher.slashRequest(id).status;
        if (status == ISlasher.SlashStatus.Executed && amount != b.outstanding && amount != b.slashable) {
            ghostTruncations++; // ended with something unpaid while the operator kept stake
        }
        if (status == ISlasher.SlashStatus.PartiallyExecuted && outstanding != b.outstanding - amount) {
            ghostTruncations++; // the deferred remainder is not what the cap held back
        }
    }
}
