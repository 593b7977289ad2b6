// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccountStakeObserver} from "../../../contracts/interfaces/IStakeObservers.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

/// @title VotesStakingStub
/// @notice Staking as the voice side sees it, for the governance tests: records each account's stake with
///         block-number checkpoints and calls the account observer (QuadraticVotes) on every change, as the
///         real Staking does; exposes the wiring getters (`token`, `slasher`) the governor follows. No
///         operators' pools, unbonding or slashing: for those, use the slashing tests' `MockStaking`
///         (test/mocks/MockStaking.sol).
contract VotesStakingStub {
    using Checkpoints for Checkpoints.Trace208;

    IAccountStakeObserver public observer;
    /// @dev The wiring getter the governor follows (zero = not wired, as on the real Staking).
    address public slasher;
    mapping(address account => Checkpoints.Trace208) private _stake;
    mapping(address operator => address) private _signer;
    Checkpoints.Trace208 private _total;

    error AlreadyWired();
    error NotOperator(address operator);

    function wire(IAccountStakeObserver observer_) external {
        if (address(observer) != address(0)) revert AlreadyWired();
        observer = observer_;
    }

    function setSlasher(address slasher_) external {
        slasher = slasher_;
    }

    /// @dev A fixed stand-in token address (the real Staking's token is immutable).
    function token() external pure returns (address) {
        return address(uint160(uint256(keccak256("VotesStakingStub.token"))));
    }

    function setStake(address account, uint256 amount) public {
        uint256 old = _stake[account].latest();
        _stake[account].push(SafeCast.toUint48(block.number), SafeCast.toUint208(amount));
        _total.push(SafeCast.toUint48(block.number), SafeCast.toUint208(_total.latest() - old + amount));
        if (address(observer) != address(0)) observer.onAccountStakeChanged(account, old, amount);
    }

    function addStake(address account, uint256 amount) external {
        setStake(account, _stake[account].latest() + amount);
    }

    /// @notice The operator that last claimed each signer key (IStaking.signerClaimant).
    mapping(address signer => address operator) public signerClaimant;

    function setSigner(address operator, address signer) external {
        _signer[operator] = signer;
        signerClaimant[signer] = operator;
    }

    function signerOf(address operator) external view returns (address) {
        address s = _signer[operator];
        if (s == address(0)) revert NotOperator(operator);
        return s;
    }

    function stakeOf(address account) external view returns (uint256) {
        return _stake[account].latest();
    }

    function getPastStake(address account, uint256 timepoint) external view returns (uint256) {
        return _stake[account].upperLookupRecent(SafeCast.toUint48(timepoint));
    }

    function totalActiveStake() external view returns (uint256) {
        return _total.latest();
    }
}
