// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernorQuadraticCounting} from "./GovernorQuadraticCounting.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title GovernorDelegateOverrides
/// @notice Delegation overrides on quadratic voice: a voice holder (an identity, or an unattested account's
///         pool share) that delegated can vote itself while voting is open. Its own voice counts (capped
///         like any delegate's), and is taken out of its delegate's vote, before or after the delegate votes.
/// @dev Each holder (`QuadraticVotes.getPastHolder`) overrides at most once per proposal. Voice overridden
///      before the delegate votes is kept in the delegate's `Receipt.overridden` and left out when it votes;
///      after the delegate voted, the delegate's counted weight is recomputed and the difference removed from
///      its tally (`VoteReduced`). Every override ends with the counting module's `_afterVoteCounted` hook,
///      as a delegate's vote does.
abstract contract GovernorDelegateOverrides is GovernorQuadraticCounting {
    mapping(uint256 proposalId => mapping(bytes32 holder => bool)) private _overridden;

    /// @notice `voter` overrode its delegate's vote with its own voice.
    event OverrideVoteCast(
        address indexed voter, uint256 proposalId, uint8 support, uint256 weight, string reason
    );
    /// @notice The counted vote of `delegatee` on `proposalId` was reduced by `weight` (an override).
    event VoteReduced(address indexed delegatee, uint256 proposalId, uint8 support, uint256 weight);

    /// @notice The voice holder `holder` has already overridden its delegate on this proposal.
    error AlreadyOverridden(bytes32 holder);
    /// @notice `account` has no delegated voice to override (none, or it is its own delegate).
    error NothingToOverride(address account);

    /// @notice Whether the voice holder `holder` (see QuadraticVotes.getPastHolder) overrode on `proposalId`.
    /// @param proposalId The proposal.
    /// @param holder The holder key.
    /// @return True when it has overridden.
    function hasOverridden(uint256 proposalId, bytes32 holder) external view returns (bool) {
        return _overridden[proposalId][holder];
    }

    /// @notice Casts the caller's OWN voice (its identity's, or its unattested share) on `proposalId`,
    ///         overriding its delegate. If the delegate already voted, its counted weight is reduced.
    /// @param proposalId The proposal.
    /// @param support 0 = against, 1 = for, 2 = abstain.
    /// @param reason Free text.
    /// @return weight The weight counted for the override.
    function castOverrideVote(uint256 proposalId, uint8 support, string calldata reason)
        external
        returns (uint256 weight)
    {
        _requireActive(proposalId);
        if (support > uint8(VoteType.Abstain)) revert GovernorInvalidVoteType();
        uint256 t = proposalSnapshot(proposalId) - 1;
        (bytes32 holder, address delegatee, uint256 voice) = votes.getPastHolder(msg.sender, t);
        if (voice < 1 || delegatee == msg.sender) revert NothingToOverride(msg.sender);
        if (_overridden[proposalId][holder]) revert AlreadyOverridden(holder);
        _overridden[proposalId][holder] = true;

        uint256 cap = Math.mulDiv(votes.getPastTotalSupply(t), _parameters().delegateCapBps, _BPS);
        weight = Math.min(voice, cap);
        _addTally(proposalId, support, weight);

        _reduceDelegate(proposalId, delegatee, voice, cap);
        emit OverrideVoteCast(msg.sender, proposalId, support, weight, reason);
        _afterBallotCounted(proposalId, msg.sender, support, weight);
        _afterVoteCounted(proposalId, votes.getPastTotalSupply(t), _parameters());
    }

    /// @dev Takes `voice` out of `delegatee`'s vote on `proposalId`: remembered for later if it has not
    ///      voted, otherwise its capped weight is recomputed and the difference subtracted (`VoteReduced`).
    function _reduceDelegate(uint256 proposalId, address delegatee, uint256 voice, uint256 cap) private {
        Receipt storage r = _receipt(proposalId, delegatee);
        if (r.casted == 0) {
            r.overridden = SafeCast.toUint120(uint256(r.overridden) + voice);
            return;
        }
        uint256 oldW = Math.min(r.raw, cap);
        uint256 newRaw = r.raw > voice ? r.raw - voice : 0;
        r.raw = SafeCast.toUint120(newRaw);
        uint256 cut = oldW - Math.min(newRaw, cap);
        if (cut != 0) {
            uint8 dSupport = r.casted - 1;
            _subTally(proposalId, dSupport, cut);
            emit VoteReduced(delegatee, proposalId, dSupport, cut);
        }
    }
}
