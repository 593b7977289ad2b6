// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeGovernor} from "../../../contracts/governance/DisputeGovernor.sol";
import {IdentityRegistry} from "../../../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../../../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../../../contracts/governance/VerinferGovernor.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {VerinferToken} from "../../../contracts/token/VerinferToken.sol";
import {MockDisputeReceiver} from "../mocks/MockDisputeReceiver.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Test} from "forge-std/Test.sol";

/// @notice Shared setup of the governance integration suites: a real Staking, the governance contracts
///         wired to it (identities, quadratic voice, timelock + governor, dispute governor with a mock
///         registry), two operators and attested voters.
abstract contract GovernanceIntegrationBase is Test {
    uint48 internal constant UNBONDING = 21 days;
    /// @dev Dispute voting period, in seconds.
    uint32 internal constant DISPUTE_VOTING_PERIOD = 1 hours;

    VerinferToken internal token;
    Staking internal staking;
    IdentityRegistry internal ids;
    QuadraticVotes internal qv;
    TimelockController internal timelock;
    VerinferGovernor internal governor;
    DisputeGovernor internal disputes;
    MockDisputeReceiver internal registry;

    address internal issuer = makeAddr("issuer");
    address internal opA = makeAddr("opA");
    address internal opB = makeAddr("opB");
    address internal challenger = makeAddr("challenger");
    address[] internal voters;

    /// @dev Token and Staking (min operator stake 100e18, 1-day signer rotation) at a fixed time and block.
    function _deployStaking() internal {
        vm.warp(1_700_000_000);
        vm.roll(100);
        token = new VerinferToken("Verinfer", "VINF", address(this), 0);
        staking = new Staking(token, address(this), 100e18, UNBONDING, 1 days);
    }

    /// @dev Deploys the governance contracts and wires Staking to `slasher_` and the voice tracker.
    function _deployGovernance(address slasher_, uint256 minDelay) internal {
        ids = new IdentityRegistry(address(this));
        qv = new QuadraticVotes(staking, address(ids));
        staking.wire(slasher_, address(qv), address(0));
        ids.wire(qv);
        ids.approveIssuer(issuer);

        timelock = new TimelockController(minDelay, new address[](0), new address[](0), address(this));
        governor = new VerinferGovernor(
            qv,
            timelock,
            address(ids),
            VerinferGovernor.Config({
                votingDelay: 1,
                votingPeriod: 50,
                proposalThreshold: 1e9,
                lateQuorumExtension: 10,
                quorumBps: 400,
                delegateCapBps: 1000,
                residualK: 0
            })
        );
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.EXECUTOR_ROLE(), address(0));
        disputes = new DisputeGovernor(qv, staking, timelock, address(this), DISPUTE_VOTING_PERIOD, 400, 1000);
        registry = new MockDisputeReceiver(disputes);
        disputes.wire(registry);
    }

    /// @dev Registers opA and opB with hot keys `signerA`/`signerB` and `selfStake` each.
    function _registerOperators(address signerA, address signerB, uint256 selfStake) internal {
        _fund(opA, 1000e18);
        _fund(opB, 1000e18);
        vm.prank(opA);
        staking.registerOperator(signerA, selfStake);
        vm.prank(opB);
        staking.registerOperator(signerB, selfStake);
    }

    /// @dev `n` voters, each with its own attested identity, delegating 100e18 to opA (or alternating
    ///      opA/opB when `alternate`); the challenger gets an identity too (a challenger must hold one); then
    ///      two blocks pass so the stake is in past checkpoints.
    function _addAttestedVoters(uint256 n, bool alternate) internal {
        _attest(challenger);
        for (uint256 i; i < n; ++i) {
            address v = makeAddr(string(abi.encodePacked("voter", i)));
            voters.push(v);
            _fund(v, 1000e18);
            _attest(v);
            vm.prank(v);
            staking.delegate(alternate && i % 2 == 1 ? opB : opA, 100e18);
        }
        vm.roll(block.number + 2);
    }

    /// @dev A new identity of `issuer` with `account` linked to it.
    function _attest(address account) internal {
        vm.prank(issuer);
        uint256 id = ids.createIdentity();
        vm.prank(issuer);
        ids.offerLink(account, id);
        vm.prank(account);
        ids.acceptLink(id);
    }

    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.prank(who);
        token.approve(address(staking), type(uint256).max);
    }
}
