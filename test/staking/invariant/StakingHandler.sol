// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../../contracts/token/VerinferToken.sol";

/// @notice Drives `Staking` with random actors, a time warper and slashes (the handler is the slasher).
///         Keeps ghost accounting for the invariants.
contract StakingHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant N_ACTORS = 6;
    uint256 internal constant N_OPERATORS = 3; // actors[0..2] may register
    uint256 internal constant MAX_AMOUNT = 1e24;

    Staking public immutable staking;
    VerinferToken public immutable token;
    address public immutable sink;

    address[] internal _actors;

    // ghosts
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashedOut;
    uint256 public ghostEarlyWithdrawals; // completions observed before unlock (must stay 0)
    uint256 public ghostLateFailures; // completions that failed after unlock (must stay 0)
    uint256[] internal _withdrawalIds;
    mapping(uint256 id => uint32 epoch) public ghostWithdrawalEpoch;

    uint256[] internal _snapBlocks;
    mapping(uint256 blockNumber => bool) internal _snapped;
    mapping(address account => mapping(uint256 blockNumber => uint256)) public ghostStakeAt;
    mapping(uint256 blockNumber => uint256) public ghostTotalAt;

    mapping(bytes32 action => uint256) public calls;

    constructor(Staking staking_, VerinferToken token_, address sink_) {
        staking = staking_;
        token = token_;
        sink = sink_;
        for (uint256 i; i < N_ACTORS; ++i) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            _actors.push(a);
            vm.prank(a);
            token_.approve(address(staking_), type(uint256).max);
        }
    }

    // ------------------------------------------------------------------ actions

    function registerOperator(uint256 opSeed, uint256 amount) external {
        address op = _operator(opSeed);
        if (staking.operatorInfo(op).registered) return;
        _register(op, amount);
    }

    function delegate(uint256 actorSeed, uint256 opSeed, uint256 amount) external {
        address actor = _actor(actorSeed);
        address op = _operator(opSeed);
        if (!staking.operatorInfo(op).registered) {
            _register(op, amount);
            return;
        }
        if (staking.operatorInfo(op).jailed) actor = op; // only the owner may top up a jailed operator
        amount = bound(amount, 1, MAX_AMOUNT);
        _mintTo(actor, amount);
        vm.prank(actor);
        staking.delegate(op, amount);
        ghostDeposited += amount;
        calls["delegate"]++;
        _snapshot();
    }

    function requestUnstake(uint256 actorSeed, uint256 opSeed, uint256 shares) external {
        // first (actor, operator) pair holding shares, starting from the seeds
        for (uint256 j; j < N_ACTORS; ++j) {
            address actor = _actor(actorSeed % N_ACTORS + j);
            for (uint256 i; i < N_OPERATORS; ++i) {
                address op = _operator(opSeed % N_OPERATORS + i);
                uint256 owned = staking.sharesOf(op, actor);
                if (owned == 0) continue;
                // a third of the time unstake everything
                shares = shares % 3 == 0 ? owned : bound(shares, 1, owned);
                vm.prank(actor);
                uint256 id = staking.requestUnstake(op, shares);
                (,, uint32 epoch) = staking.unbondingPool(op);
                ghostWithdrawalEpoch[id] = epoch;
                _withdrawalIds.push(id);
                calls["requestUnstake"]++;
                _snapshot();
                return;
            }
        }
    }

    function completeUnstake(uint256 idSeed) external {
        if (_withdrawalIds.length == 0) return;
        uint256 id = _withdrawalIds[idSeed % _withdrawalIds.length];
        IStaking.Withdrawal memory w = staking.withdrawal(id);
        if (w.completed) return;
        uint256 balanceBefore = token.balanceOf(w.owner);
        vm.prank(w.owner);
        try staking.completeUnstake(id) returns (uint256 assets) {
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp < w.unlockAt) ghostEarlyWithdrawals++;
            ghostWithdrawn += assets;
            if (token.balanceOf(w.owner) - balanceBefore != assets) ghostLateFailures++;
            calls["completeUnstake"]++;
        } catch {
            // forge-lint: disable-next-line(block-timestamp)
            if (block.timestamp >= w.unlockAt) ghostLateFailures++;
            calls["completeUnstake_locked"]++;
        }
        _snapshot();
    }

    function slash(uint256 opSeed, uint256 bps) external {
        address op = _operator(opSeed);
        IStaking.OperatorInfo memory info = staking.operatorInfo(op);
        uint256 available = info.activeStake + info.unbondingStake;
        if (!info.registered || available == 0) return;
        // mostly partial slashes, sometimes everything (exercises the write-off path)
        bps = bps % 25 == 0 ? 10_000 : bound(bps, 1, 5000);
        uint256 amount = available * bps / 10_000;
        if (amount == 0) amount = 1;
        staking.slash(op, amount, sink);
        ghostSlashedOut += amount;
        calls["slash"]++;
        _snapshot();
    }

    function jail(uint256 opSeed, uint256 duration) external {
        address op = _operator(opSeed);
        // jail rarely, so that most of the campaign runs with active operators
        if (!staking.operatorInfo(op).registered || duration % 4 != 0) return;
        staking.jail(op, uint48(block.timestamp + bound(duration, 0, 3 days)));
        calls["jail"]++;
        _snapshot();
    }

    function unjail(uint256 opSeed) external {
        address op = _operator(opSeed);
        IStaking.OperatorInfo memory info = staking.operatorInfo(op);
        if (!info.registered || !info.jailed || info.selfStake < staking.minOperatorStake()) return;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < info.jailedUntil) return;
        vm.prank(op);
        staking.unjail();
        calls["unjail"]++;
        _snapshot();
    }

    function syncStake(uint256 actorSeed, uint256 opSeed) external {
        address op = _operator(opSeed);
        if (!staking.operatorInfo(op).registered) return;
        staking.syncStake(_actor(actorSeed), op);
        calls["syncStake"]++;
        _snapshot();
    }

    function warp(uint256 secondsAhead, uint256 blocksAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 30 days));
        vm.roll(block.number + bound(blocksAhead, 1, 5));
        calls["warp"]++;
        _snapshot();
    }

    // ------------------------------------------------------------------ views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function operators() external view returns (address[] memory ops) {
        ops = new address[](N_OPERATORS);
        for (uint256 i; i < N_OPERATORS; ++i) {
            ops[i] = _actors[i];
        }
    }

    function withdrawalIds() external view returns (uint256[] memory) {
        return _withdrawalIds;
    }

    function snapBlocks() external view returns (uint256[] memory) {
        return _snapBlocks;
    }

    // ------------------------------------------------------------------ internals

    function _register(address op, uint256 amount) internal {
        amount = bound(amount, staking.minOperatorStake(), MAX_AMOUNT);
        _mintTo(op, amount);
        vm.prank(op);
        staking.registerOperator(_signerFor(op), amount);
        ghostDeposited += amount;
        calls["register"]++;
        _snapshot();
    }

    function _snapshot() internal {
        uint256 b = block.number;
        if (!_snapped[b]) {
            _snapped[b] = true;
            _snapBlocks.push(b);
        }
        for (uint256 i; i < N_ACTORS; ++i) {
            ghostStakeAt[_actors[i]][b] = staking.stakeOf(_actors[i]);
        }
        ghostTotalAt[b] = staking.totalActiveStake();
    }

    function _mintTo(address to, uint256 amount) internal {
        token.mint(to, amount);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % N_ACTORS];
    }

    function _operator(uint256 seed) internal view returns (address) {
        return _actors[seed % N_OPERATORS];
    }

    function _signerFor(address op) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("signer", op)))));
    }
}
