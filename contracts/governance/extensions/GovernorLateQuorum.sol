// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {GovernorQuadraticCounting} from "./GovernorQuadraticCounting.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title GovernorLateQuorum
/// @notice Late-quorum protection with the semantics, events and API of OZ GovernorPreventLateQuorum: the
///         first vote that brings a proposal to its quorum moves the deadline to at least
///         `clock() + lateQuorumVoteExtension()`, so a last-minute swing leaves time to react.
/// @dev Unlike the OZ module, the extended deadline is kept in the counting module's tally slot
///      (`Tally.extendedDeadline`) and the extension in its parameter slot (`Params.voteExtension`), so the
///      vote that reaches quorum does not pay a fresh storage slot. The quorum compared is the one the
///      proposal needs (`_requiredQuorum`, so a stricter bar from another extension applies here too).
abstract contract GovernorLateQuorum is GovernorQuadraticCounting {
    /// @notice Upper bound of the late-quorum extension (blocks).
    uint256 public constant MAX_LATE_QUORUM_EXTENSION = 50_400;

    /// @notice Late quorum moved the deadline of `proposalId` (as in OZ GovernorPreventLateQuorum).
    event ProposalExtended(uint256 indexed proposalId, uint64 extendedDeadline);
    /// @notice The late-quorum extension changed (as in OZ GovernorPreventLateQuorum).
    event LateQuorumVoteExtensionSet(uint64 oldVoteExtension, uint64 newVoteExtension);

    /// @param initialVoteExtension Blocks voting stays open after quorum is reached, within
    ///        [0, MAX_LATE_QUORUM_EXTENSION].
    constructor(uint48 initialVoteExtension) {
        _checkBounds("lateQuorumExtension", initialVoteExtension, 0, MAX_LATE_QUORUM_EXTENSION);
        _parameters().voteExtension = initialVoteExtension;
        emit LateQuorumVoteExtensionSet(0, initialVoteExtension);
    }

    /// @notice Blocks voting stays open after quorum is reached (OZ GovernorPreventLateQuorum semantics).
    /// @return The extension in blocks.
    function lateQuorumVoteExtension() external view returns (uint48) {
        return _parameters().voteExtension;
    }

    /// @notice Sets the late-quorum extension, within [0, MAX_LATE_QUORUM_EXTENSION]. Only governance.
    /// @param newVoteExtension Blocks voting stays open after quorum is reached.
    function setLateQuorumVoteExtension(uint48 newVoteExtension) external onlyGovernance {
        _checkBounds("lateQuorumExtension", newVoteExtension, 0, MAX_LATE_QUORUM_EXTENSION);
        Params storage p = _parameters();
        emit LateQuorumVoteExtensionSet(p.voteExtension, newVoteExtension);
        p.voteExtension = newVoteExtension;
    }

    /// @notice Voting deadline, extended by late quorum (OZ GovernorPreventLateQuorum semantics).
    /// @param proposalId The proposal.
    /// @return The last block of voting.
    function proposalDeadline(uint256 proposalId) public view virtual override returns (uint256) {
        return Math.max(super.proposalDeadline(proposalId), _tally(proposalId).extendedDeadline);
    }

    /// @dev The first time for + abstain reach the quorum the proposal needs, the deadline becomes at least
    ///      `clock() + voteExtension` (`ProposalExtended` when that moves it).
    function _afterVoteCounted(uint256 proposalId, uint256 totalVoice, Params memory p)
        internal
        virtual
        override
    {
        super._afterVoteCounted(proposalId, totalVoice, p);
        Tally storage t = _tally(proposalId);
        if (t.extendedDeadline != 0) return;
        uint256 q = _requiredQuorum(proposalId, Math.mulDiv(totalVoice, p.quorumBps, _BPS));
        if (uint256(t.forVotes) + t.abstainVotes < q) return;
        uint48 ext = clock() + p.voteExtension;
        if (ext > proposalDeadline(proposalId)) emit ProposalExtended(proposalId, ext);
        t.extendedDeadline = ext;
    }
}
