// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {DisputeGovernor} from "../contracts/governance/DisputeGovernor.sol";
import {IIdentityObserver, IdentityRegistry} from "../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../contracts/governance/VerinferGovernor.sol";
import {IDisputeReceiver} from "../contracts/interfaces/IDisputes.sol";
import {ISlasher} from "../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../contracts/registry/InferenceRegistry.sol";
import {Slasher} from "../contracts/slashing/Slasher.sol";
import {Staking} from "../contracts/staking/Staking.sol";
import {VerinferToken} from "../contracts/token/VerinferToken.sol";

/// @title DeploySuite
/// @notice The one deployment routine of verinfer, shared by `script/Deploy.s.sol` and the tests, so tests run
///         on exactly what the script deploys. Deploys in the canonical order, performs every one-time wiring
///         call, asserts the cross-contract timing invariants and finally hands every admin role to the
///         timelock (the deployer renounces all of them).
/// @dev All functions are internal: they execute in the caller's context, so under `vm.startBroadcast` /
///      `vm.startPrank(cfg.deployer)` every deployment and call is made by `cfg.deployer`.
library DeploySuite {
    /// @notice Deployment parameters (see `Deploy.s.sol` for the env variables and defaults).
    struct Config {
        address deployer; // sender of every deployment/wiring call; holds no role at the end
        address stakingToken; // existing ERC20 to stake; zero = deploy a VerinferToken
        uint256 tokenSupply; // initial VerinferToken supply, minted to the deployer
        address treasury; // slash sink and registry treasury; zero = the timelock
        uint256 minOperatorStake;
        uint48 unbondingDelay; // U
        uint48 signerRotationDelay;
        uint256 timelockDelay; // T (seconds)
        uint32 maxChallengeWindow; // longest challenge window models are meant to use (seconds)
        uint32 disputeDuration; // longest time a dispute takes from opening to an applicable ruling (seconds)
        uint32 executionMargin; // keeper latency kept between the latest slash execution and U
        uint32 blockTime; // expected seconds per block, to convert block-counted voting periods
        uint48 votingDelay; // governor voting delay (blocks)
        uint32 votingPeriod; // governor voting period (blocks)
        uint32 disputeVotingPeriod; // dispute voting period (blocks)
        uint16 quorumBps; // quorum, bps of total voice (governor and disputes)
        uint16 delegateCapBps; // largest share of total voice one delegate may cast
        uint256 proposalThreshold; // governor proposal threshold, voice units (x2 for proposals to the suite)
    }

    /// @notice The deployed, wired suite. Contracts not part of this build are zero.
    struct Suite {
        IERC20 token;
        bool tokenDeployed; // whether `token` is a VerinferToken deployed by this routine
        Staking staking;
        Slasher slasher;
        InferenceRegistry registry;
        IdentityRegistry identity;
        QuadraticVotes votes;
        TimelockController timelock;
        VerinferGovernor governor;
        DisputeGovernor disputes;
        address treasury;
        uint256 block; // block number of the deployment
    }

    /// @notice A cross-contract timing invariant does not hold: `lhs` must be `relation` `rhs`.
    error TimingInvariantViolated(string rule, uint256 lhs, string relation, uint256 rhs);

    /// @notice The longest time a fault reported through the registry can take to reach `requestSlash`
    ///         (`D` in docs/slashing.md): challenge window + dispute voting and ruling delay.
    /// @param cfg The deployment parameters.
    /// @return The bound in seconds.
    function faultToSlashDelay(Config memory cfg) internal pure returns (uint256) {
        return uint256(cfg.maxChallengeWindow) + cfg.disputeDuration + cfg.timelockDelay;
    }

    /// @notice The longest time governance needs to veto a slash: voting delay + voting period (converted
    ///         to seconds) + the timelock delay.
    /// @param cfg The deployment parameters.
    /// @return The bound in seconds.
    function vetoLatency(Config memory cfg) internal pure returns (uint256) {
        return (uint256(cfg.votingDelay) + cfg.votingPeriod) * cfg.blockTime + cfg.timelockDelay;
    }

    /// @notice Reverts with `TimingInvariantViolated` unless the timing invariants of docs/staking.md and
    ///         docs/slashing.md hold for `cfg` and the slasher's `WrongResult` veto window `vetoWindow`.
    /// @param cfg The deployment parameters.
    /// @param vetoWindow The WrongResult veto window V (seconds).
    function checkTiming(Config memory cfg, uint256 vetoWindow) internal pure {
        uint256 u = cfg.unbondingDelay;
        // staking.md #1 / slashing.md #1: D + V (+ keeper margin) < U.
        uint256 latest = faultToSlashDelay(cfg) + vetoWindow + cfg.executionMargin;
        if (latest >= u) {
            revert TimingInvariantViolated("challenge+dispute+veto+margin < unbondingDelay", latest, "<", u);
        }
        // A dispute's voting period (blocks) must fit in the configured dispute duration (seconds).
        uint256 disputeVoting = uint256(cfg.disputeVotingPeriod) * cfg.blockTime;
        if (disputeVoting > cfg.disputeDuration) {
            revert TimingInvariantViolated(
                "disputeVotingPeriod*blockTime <= disputeDuration", disputeVoting, "<=", cfg.disputeDuration
            );
        }
        // governance.md: a proposal vetoing a WrongResult slash must be able to execute inside the window.
        uint256 veto = vetoLatency(cfg);
        if (veto >= vetoWindow) {
            revert TimingInvariantViolated(
                "votingDelay+votingPeriod+timelockDelay < vetoWindow", veto, "<", vetoWindow
            );
        }
        // staking.md #2 (timelock delay < U) is implied: a ruling is applied only after the timelock delay,
        // which is part of D above.
        // staking.md #3: the signer that signed must still verify while a fault about it can be proven.
        uint256 proofWindow = uint256(cfg.maxChallengeWindow) + 1 days; // + the registry's MAX_TTL
        if (cfg.signerRotationDelay < proofWindow) {
            revert TimingInvariantViolated(
                "signerRotationDelay >= maxTtl + maxChallengeWindow",
                cfg.signerRotationDelay,
                ">=",
                proofWindow
            );
        }
    }

    /// @notice Deploys and wires the suite, then hands all admin roles to the timelock.
    /// @param cfg The deployment parameters.
    /// @return s The deployed suite.
    function deploySuite(Config memory cfg) internal returns (Suite memory s) {
        address deployer = cfg.deployer;
        s.block = block.number;

        // 1. token
        if (cfg.stakingToken == address(0)) {
            s.token = IERC20(address(new VerinferToken("Verinfer", "VINF", deployer, cfg.tokenSupply)));
            s.tokenDeployed = true;
        } else {
            s.token = IERC20(cfg.stakingToken);
        }

        // 2. Staking -> Slasher (sink = burn until the treasury exists)
        s.staking =
            new Staking(s.token, deployer, cfg.minOperatorStake, cfg.unbondingDelay, cfg.signerRotationDelay);
        s.slasher = new Slasher(IStaking(address(s.staking)), deployer, address(0));
        checkTiming(cfg, s.slasher.faultParams(ISlasher.FaultKind.WrongResult).vetoWindow);

        // 3. TimelockController; the deployer is its temporary admin, anyone may execute.
        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1);
        s.timelock = new TimelockController(cfg.timelockDelay, none, anyone, deployer);
        s.treasury = cfg.treasury == address(0) ? address(s.timelock) : cfg.treasury;

        // 4. registry, identities, voice, governors
        s.registry = new InferenceRegistry(
            IStaking(address(s.staking)), ISlasher(address(s.slasher)), s.treasury, deployer
        );
        s.identity = new IdentityRegistry(deployer);
        s.votes = new QuadraticVotes(IStaking(address(s.staking)), address(s.identity));
        s.governor = new VerinferGovernor(
            s.votes,
            s.timelock,
            address(s.identity),
            VerinferGovernor.Config({
                votingDelay: cfg.votingDelay,
                votingPeriod: cfg.votingPeriod,
                proposalThreshold: cfg.proposalThreshold,
                lateQuorumExtension: 0,
                quorumBps: cfg.quorumBps,
                delegateCapBps: cfg.delegateCapBps
            })
        );
        s.disputes = new DisputeGovernor(
            s.votes,
            IStaking(address(s.staking)),
            s.timelock,
            deployer,
            cfg.disputeVotingPeriod,
            cfg.quorumBps,
            cfg.delegateCapBps
        );

        // 5. wiring (each one-time): slashes come from the registry (faults, dispute rulings) and the timelock
        // (governance: vetoes); the dispute governor rules for the registry. Staking is wired last: voice
        // exists only once Staking reports to QuadraticVotes, and by then every link the governor follows
        // to find its governance targets (staking -> slasher -> registry -> resolver) is in place.
        s.slasher.setTreasury(s.treasury);
        s.slasher.wire(address(s.registry), address(s.timelock));
        s.registry.wire(address(s.disputes));
        s.identity.wire(IIdentityObserver(address(s.votes)));
        s.disputes.wire(IDisputeReceiver(address(s.registry)));
        s.staking.wire(address(s.slasher), address(s.votes), address(s.registry));
        s.timelock.grantRole(s.timelock.PROPOSER_ROLE(), address(s.governor));
        s.timelock.grantRole(s.timelock.CANCELLER_ROLE(), address(s.governor));

        // 6. hand over: every admin role to the timelock, the deployer renounces.
        _handOver(s, deployer);
    }

    function _handOver(Suite memory s, address deployer) private {
        address tl = address(s.timelock);
        bytes32 adminRole = 0x00; // DEFAULT_ADMIN_ROLE
        s.staking.grantRole(adminRole, tl);
        s.staking.renounceRole(adminRole, deployer);
        s.slasher.grantRole(adminRole, tl);
        s.slasher.renounceRole(adminRole, deployer);
        s.registry.grantRole(adminRole, tl);
        s.registry.renounceRole(adminRole, deployer);
        s.identity.grantRole(adminRole, tl);
        s.identity.renounceRole(adminRole, deployer);
        s.disputes.grantRole(adminRole, tl);
        s.disputes.renounceRole(adminRole, deployer);
        if (s.tokenDeployed) VerinferToken(address(s.token)).transferOwnership(tl);
        s.timelock.renounceRole(adminRole, deployer);
    }
}
