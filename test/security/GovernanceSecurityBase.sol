// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Proposals} from "../utils/Proposals.sol";
import {SecurityBase} from "./SecurityBase.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";

/// @notice Governance helpers for the exploit regression suites on the DeploySuite wiring: one operator, and
///         voters that each hold one identity with `VOTER_STAKE` delegated to it.
abstract contract GovernanceSecurityBase is SecurityBase {
    /// @dev Voice sqrt(40,000 tokens) = 2e11: exactly twice the default proposal threshold (1e11), the bar
    ///      for proposing to a contract of the suite.
    uint256 internal constant VOTER_STAKE = 40_000 ether;
    uint256 internal constant VOTER_VOICE = 2e11;

    address[] internal voters;

    function setUp() public virtual override {
        super.setUp();
        _registerOperator(0, 10_000 ether); // unattested: the pool's voice is sqrt(10,000 tokens) = 1e11
    }

    /// @dev `n` more voters, each with its own identity and `VOTER_STAKE`; their stake is in past checkpoints
    ///      when this returns.
    function _addVoters(uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            address v = makeAddr(string.concat("voter", vm.toString(voters.length)));
            _fund(v);
            _identity(v);
            _delegate(v, operators[0], VOTER_STAKE);
            voters.push(v);
        }
        vm.roll(block.number + 2);
    }

    function _action(address target, uint256 value, bytes memory data)
        internal
        pure
        returns (address[] memory, uint256[] memory, bytes[] memory)
    {
        return Proposals.single(target, value, data);
    }

    function _proposeAs(
        address proposer,
        address target,
        uint256 value,
        bytes memory data,
        string memory desc
    ) internal returns (uint256 id) {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _action(target, value, data);
        vm.prank(proposer);
        id = s.governor.propose(t, v, c, desc);
    }

    /// @dev Voters `[from, to)` vote `support` on each of `ids` (voting must be open).
    function _vote(uint256[] memory ids, uint256 from, uint256 to, uint8 support) internal {
        for (uint256 k; k < ids.length; ++k) {
            for (uint256 i = from; i < to; ++i) {
                vm.prank(voters[i]);
                s.governor.castVote(ids[k], support);
            }
        }
    }

    function _openVoting(uint256 id) internal {
        vm.roll(s.governor.proposalSnapshot(id) + 1);
    }

    function _endVoting(uint256 id) internal {
        vm.roll(s.governor.proposalDeadline(id) + 1);
    }

    function _state(uint256 id) internal view returns (IGovernor.ProposalState) {
        return s.governor.state(id);
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }
}
