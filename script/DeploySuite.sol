// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../contracts/interfaces/IInferenceRegistry.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {DisputeGovernor} from "../contracts/governance/DisputeGovernor.sol";
import {IIdentityObserver, IdentityRegistry} from "../contracts/governance/IdentityRegistry.sol";
import {QuadraticVotes} from "../contracts/governance/QuadraticVotes.sol";
import {VerinferGovernor} from "../contracts/governance/VerinferGovernor.sol";
import {IDisputeReceiver} from "../contracts/interfaces/IDisputes.sol";
import {ISlasher} from "../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../contracts/interfaces/IStaking.sol";
import {Referee} from "../contracts/referee/Referee.sol";
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
        uint32 executionMargin; // keeper latency kept between the latest slash execution and U
        uint32 blockTime; // expected seconds per block, to convert block-counted voting periods
        uint48 votingDelay; // governor voting delay (blocks)
        uint32 votingPeriod; // governor voting period (blocks)
        uint32 disputeVotingPeriod; // dispute voting period (seconds)
        uint16 quorumBps; // quorum, bps of total voice (governor and disputes)
        uint16 delegateCapBps; // largest share of total voice one delegate may cast
        uint8 residualK; // governor breadth rule: for must reach quorum without its K largest voices (0 = off)
        uint256 proposalThreshold; // governor proposal threshold, voice units (x2 for proposals to the suite)
        uint32 refereeMoveWindow; // seconds each move of a referee game may take
    }

    /// @notice The deployed, wired suite. Contracts not part of this build are zero.
    struct Suite {
        IERC20 token;
        bool tokenDeployed; // whether `token` is a VerinferToken deployed by this routine
        Staking staking;
        Slasher slasher;
        IInferenceRegistry registry;
        IdentityRegistry identity;
        QuadraticVotes votes;
        TimelockController timelock;
        VerinferGovernor governor;
        DisputeGovernor disputes;
        Referee referee;
        address treasury;
        uint256 block; // block number of the deployment
    }

    /// @notice The registry's largest request TTL (`InferenceRegistry.MAX_TTL`); `test/script/Deploy.t.sol`
    ///         checks it against the deployed registry's `faultWindow()`.
    uint256 internal constant MAX_TTL = 1 days;
    /// @notice `Referee.MAX_MOVES`: deadlines in the longest game (`test/script/Deploy.t.sol` checks it).
    uint256 internal constant REFEREE_MAX_MOVES = 36;
    /// @notice The registry's batch window at deployment.
    uint256 internal constant BATCH_WINDOW = 1 hours;

    /// @notice The longest time after a request is created that a fault on it can still be brought to the
    ///         registry (`F` in docs/slashing.md): request TTL + challenge window + batch window. The deployed
    ///         registry reports the same quantity for its registered models as `faultWindow()`.
    /// @param cfg The deployment parameters.
    /// @return The bound in seconds.
    function faultWindow(Config memory cfg) internal pure returns (uint256) {
        return MAX_TTL + cfg.maxChallengeWindow + BATCH_WINDOW;
    }

    /// @notice The longest time from a dispute's opening to an applicable ruling (`R`): the larger of the
    ///         dispute voting period plus the timelock delay the ruling waits (`DisputeGovernor.maxRulingDelay()`)
    ///         and the longest referee game (`Referee.maxRulingDelay()`: `MAX_MOVES` move windows + 1 s).
    /// @param cfg The deployment parameters.
    /// @return The bound in seconds.
    function rulingDelay(Config memory cfg) internal pure returns (uint256) {
        uint256 vote = uint256(cfg.disputeVotingPeriod) + cfg.timelockDelay;
        uint256 game = REFEREE_MAX_MOVES * uint256(cfg.refereeMoveWindow) + 1;
        return vote > game ? vote : game;
    }

    /// @notice The longest time governance needs to veto a slash: voting delay + voting period (converted
    ///         to seconds) + the timelock delay.
    /// @param cfg The deployment parameters.
    /// @return The bound in seconds.
    function vetoLatency(Config memory cfg) internal pure returns (uint256) {
        return (uint256(cfg.votingDelay) + cfg.votingPeriod) * cfg.blockTime + cfg.timelockDelay;
    }

    /// @notice Reverts with `ISlasher.TimingInvariantViolated` unless the timing invariants of docs/slashing.md
    ///         hold for `cfg` and the slasher's `WrongResult` veto window `vetoWindow`. The deployed contracts
    ///         re-check rules 1 (without the keeper margin) and 3 in every setter (`Slasher.checkTiming`);
    ///         rule 2 counts governor blocks and is checked here, with the configured block time.
    /// @param cfg The deployment parameters.
    /// @param vetoWindow The WrongResult veto window V (seconds).
    function checkTiming(Config memory cfg, uint256 vetoWindow) internal pure {
        uint256 u = cfg.unbondingDelay;
        uint256 f = faultWindow(cfg);
        // 1. F + R + V (+ keeper margin) < U: a slash lands before stake queued after the fault can leave.
        uint256 latest = f + rulingDelay(cfg) + vetoWindow + cfg.executionMargin;
        if (latest >= u) {
            revert ISlasher.TimingInvariantViolated("fault+ruling+veto+margin<unbond", latest, u);
        }
        // 2. A proposal vetoing a WrongResult slash must be able to execute inside the veto window.
        uint256 veto = vetoLatency(cfg);
        if (veto >= vetoWindow) {
            revert ISlasher.TimingInvariantViolated("vetoLatency<vetoWindow", veto, vetoWindow);
        }
        // 3. A rotated-out signer still verifies while a fault it signed can be proven.
        if (f > cfg.signerRotationDelay) {
            revert ISlasher.TimingInvariantViolated("faultWindow<=signerRotation", f, cfg.signerRotationDelay);
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
        s.registry = IInferenceRegistry(
            address(
                new InferenceRegistry(
                    IStaking(address(s.staking)), ISlasher(address(s.slasher)), s.treasury, deployer
                )
            )
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
                delegateCapBps: cfg.delegateCapBps,
                residualK: cfg.residualK
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
        s.referee =
            new Referee(address(s.registry), address(s.staking), address(s.identity), cfg.refereeMoveWindow);

        // 5. wiring (each one-time): slashes come from the registry (faults, dispute rulings) and the timelock
        // (governance: vetoes); the dispute governor rules for the registry. Staking is wired last: voice
        // exists only once Staking reports to QuadraticVotes, and by then every link the governor follows
        // to find its governance targets (staking -> slasher -> registry -> resolver) is in place.
        s.slasher.setTreasury(s.treasury);
        s.slasher.wire(address(s.registry), address(s.timelock));
        s.registry.wire(address(s.disputes));
        s.registry.wireReferee(address(s.referee));
        s.identity.wire(IIdentityObserver(address(s.votes)));
        s.disputes.wire(IDisputeReceiver(address(s.registry)));
        s.staking.wire(address(s.slasher), address(s.votes), address(s.registry));
        s.slasher.checkTiming(); // the same rules, on the wired contracts' own parameters
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
