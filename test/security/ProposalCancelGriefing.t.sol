// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Staking} from "../../contracts/staking/Staking.sol";
import {DeploySuite} from "../../script/DeploySuite.sol";
import {GovernanceSecurityBase} from "./GovernanceSecurityBase.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";

/// @notice Issue #10, lower severity: the proposal id does not include the proposer, and OZ lets a proposer
///         cancel while Pending, after which the id is burnt. With `proposalThreshold = 0` anybody could
///         front-run a proposal with an identical one and cancel it. DeploySuite now sets a nonzero threshold
///         (the voice of one minimum operator stake; twice that for proposals to the suite), and a
///         description ending in `#proposer=<address>` cannot be proposed by anybody else.
contract ProposalCancelGriefingTest is GovernanceSecurityBase {
    address internal griefer = makeAddr("griefer");
    address internal author;

    bytes internal constant RAISE = abi.encodeCall(Staking.setMinOperatorStake, (20_000 ether));
    string internal constant DESC = "raise the minimum operator stake to 20,000 tokens";

    function setUp() public override {
        super.setUp();
        _addVoters(2);
        author = voters[0];
    }

    function _arrays() internal view returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        return _action(address(s.staking), 0, RAISE);
    }

    /// @dev The griefer sees the author's proposal coming, proposes it first and cancels it: the author's
    ///      proposal reverts and the id can never be proposed again.
    function _frontRunAndCancel(string memory desc) internal {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _arrays();
        vm.prank(griefer);
        uint256 id = s.governor.propose(t, v, c, desc);
        vm.prank(griefer);
        s.governor.cancel(t, v, c, keccak256(bytes(desc)));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Canceled));
        vm.prank(author);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Canceled,
                bytes32(0)
            )
        );
        s.governor.propose(t, v, c, desc);
    }

    function _protected(address proposer) internal pure returns (string memory) {
        return string.concat(DESC, " #proposer=", _hex(proposer));
    }

    function _hex(address a) internal pure returns (string memory) {
        bytes memory out = new bytes(42);
        bytes16 digits = "0123456789abcdef";
        (out[0], out[1]) = ("0", "x");
        for (uint256 i; i < 20; ++i) {
            uint8 b = uint8(uint160(a) >> (8 * (19 - i)));
            out[2 + 2 * i] = digits[b >> 4];
            out[3 + 2 * i] = digits[b & 0x0f];
        }
        return string(out);
    }

    function test_DeployedThresholdIsTheVoiceOfOneMinimumOperatorStake() public view {
        assertEq(s.governor.proposalThreshold(), 1e11);
        assertEq(s.governor.proposalThreshold() ** 2, s.staking.minOperatorStake());
    }

    /// @dev The old setting: with threshold 0, an account without any stake burns the author's proposal.
    function test_ZeroThresholdLetsAStakelessAccountBurnAnUnprotectedProposal() public {
        DeploySuite.Config memory c = cfg;
        c.proposalThreshold = 0;
        vm.startPrank(deployer);
        s = DeploySuite.deploySuite(c);
        vm.stopPrank();
        assertEq(s.votes.getVotes(griefer), 0);
        _frontRunAndCancel(DESC);
    }

    /// @dev The deployed threshold stops a stakeless griefer.
    function test_RevertWhen_StakelessAccountFrontRunsUnderDeployedThreshold() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _arrays();
        vm.prank(griefer);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, griefer, 0, 2e11)
        );
        s.governor.propose(t, v, c, DESC);
    }

    /// @dev Residual risk of unprotected descriptions: a griefer with enough voice can still do it.
    function test_StakedGrieferCanStillBurnAnUnprotectedProposal() public {
        griefer = voters[1];
        _frontRunAndCancel(DESC);
    }

    /// @dev A protected description cannot be front-run by anyone, however staked; its author can still
    ///      cancel it while Pending, nobody else can.
    function test_ProtectedDescriptionCannotBeFrontRun() public {
        griefer = voters[1];
        string memory desc = _protected(author);
        (address[] memory t, uint256[] memory v, bytes[] memory c) = _arrays();
        vm.prank(griefer);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorRestrictedProposer.selector, griefer));
        s.governor.propose(t, v, c, desc);

        vm.prank(author);
        uint256 id = s.governor.propose(t, v, c, desc);
        vm.prank(griefer);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id, griefer));
        s.governor.cancel(t, v, c, keccak256(bytes(desc)));
        assertEq(uint256(_state(id)), uint256(IGovernor.ProposalState.Pending));
    }
}
