// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {VerinferToken} from "../../contracts/token/VerinferToken.sol";
import {Deploy} from "../../script/Deploy.s.sol";
import {DeploySuite} from "../../script/DeploySuite.sol";

/// @notice The deployment routine deploys, wires and hands over exactly as documented.
contract DeployTest is Test {
    bytes32 internal constant ADMIN = 0x00;

    Deploy internal script;
    address internal deployer = makeAddr("deployer");

    function setUp() public {
        script = new Deploy();
    }

    function _deploy(DeploySuite.Config memory cfg) internal returns (DeploySuite.Suite memory s) {
        vm.startPrank(deployer);
        s = DeploySuite.deploySuite(cfg);
        vm.stopPrank();
    }

    function _cfg() internal view returns (DeploySuite.Config memory) {
        return script.configFromEnv(deployer);
    }

    function test_DeploysAndWiresEveryContract() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        assertEq(address(s.staking.token()), address(s.token));
        assertEq(address(s.slasher.staking()), address(s.staking));
        assertEq(address(s.slasher.token()), address(s.token));
        assertTrue(s.staking.wired());
        assertEq(s.staking.slasher(), address(s.slasher));
        assertEq(s.slasher.registry(), address(s.registry));
        assertEq(s.slasher.governance(), address(s.timelock));
        assertEq(address(s.registry.staking()), address(s.staking));
        assertEq(address(s.registry.slasher()), address(s.slasher));
        assertEq(address(s.registry.resolver()), address(s.disputes));
        assertEq(address(s.registry.referee()), address(s.referee));
        assertEq(address(s.referee.registry()), address(s.registry));
        assertEq(address(s.disputes.registry()), address(s.registry));
        assertEq(address(s.identity.observer()), address(s.votes));
        assertEq(address(s.votes.staking()), address(s.staking));
        assertEq(address(s.governor.votes()), address(s.votes));
        assertEq(s.governor.timelock(), address(s.timelock));
        assertTrue(s.timelock.hasRole(s.timelock.PROPOSER_ROLE(), address(s.governor)));
        assertEq(s.slasher.treasury(), address(s.timelock));
        assertEq(s.treasury, address(s.timelock));
        assertEq(s.staking.unbondingDelay(), 21 days);
        assertEq(s.staking.minOperatorStake(), 10_000 ether);
        assertEq(s.timelock.getMinDelay(), 12 hours);
        assertEq(s.token.totalSupply(), 1e9 ether);
        assertEq(s.token.balanceOf(deployer), 1e9 ether);
        // the voice of one minimum operator stake in one identity (sqrt(10,000 tokens))
        assertEq(s.governor.proposalThreshold(), 1e11);
    }

    /// @dev The measured governance defaults (docs/governance.md, "The quorum, from measurements"): a 1%
    ///      quorum on both governors, safe only together with the residual rule (K = 10), which the same
    ///      defaults switch on.
    function test_DefaultQuorumIsOnePercentOfVoiceWithTheResidualRuleOn() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        assertEq(s.governor.quorumBps(), 100);
        assertEq(s.disputes.quorumBps(), 100);
        assertEq(s.governor.residualK(), 10);
    }

    /// @dev The governor's stricter bar covers the whole deployed suite: every link it follows is wired
    ///      by the time the deployment ends.
    function test_EveryContractOfTheSuiteIsAGovernanceTarget() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        address[] memory targets = s.governor.governanceTargets();
        assertEq(targets.length, s.governor.GOVERNANCE_NODES());
        address[9] memory suite = [
            address(s.token),
            address(s.staking),
            address(s.slasher),
            address(s.registry),
            address(s.identity),
            address(s.votes),
            address(s.timelock),
            address(s.governor),
            address(s.disputes)
        ];
        for (uint256 i; i < suite.length; ++i) {
            assertTrue(s.governor.isGovernanceTarget(suite[i]));
        }
        assertFalse(s.governor.isGovernanceTarget(deployer));
    }

    function test_TimelockHoldsEveryAdminRoleAndDeployerNone() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        address tl = address(s.timelock);
        assertTrue(s.staking.hasRole(ADMIN, tl));
        assertTrue(s.slasher.hasRole(ADMIN, tl));
        assertTrue(s.registry.hasRole(ADMIN, tl));
        assertTrue(s.identity.hasRole(ADMIN, tl));
        assertTrue(s.disputes.hasRole(ADMIN, tl));
        assertEq(VerinferToken(address(s.token)).owner(), tl);
        assertTrue(s.timelock.hasRole(ADMIN, tl)); // self-administered

        assertFalse(s.staking.hasRole(ADMIN, deployer));
        assertFalse(s.slasher.hasRole(ADMIN, deployer));
        assertFalse(s.registry.hasRole(ADMIN, deployer));
        assertFalse(s.identity.hasRole(ADMIN, deployer));
        assertFalse(s.disputes.hasRole(ADMIN, deployer));
        assertFalse(s.timelock.hasRole(ADMIN, deployer));
        assertFalse(s.timelock.hasRole(s.timelock.PROPOSER_ROLE(), deployer));
        assertFalse(s.timelock.hasRole(s.timelock.CANCELLER_ROLE(), deployer));
        assertTrue(s.timelock.hasRole(s.timelock.EXECUTOR_ROLE(), address(0))); // open execution
    }

    function test_UsesExistingStakingToken() public {
        VerinferToken existing = new VerinferToken("X", "X", address(this), 1 ether);
        DeploySuite.Config memory cfg = _cfg();
        cfg.stakingToken = address(existing);
        DeploySuite.Suite memory s = _deploy(cfg);
        assertEq(address(s.token), address(existing));
        assertFalse(s.tokenDeployed);
        assertEq(existing.owner(), address(this)); // not touched
        assertEq(address(s.staking.token()), address(existing));
    }

    function _timingError(bytes32 rule, uint256 lhs, uint256 rhs) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISlasher.TimingInvariantViolated.selector, rule, lhs, rhs);
    }

    function test_RevertWhen_DisputePathOutlastsUnbonding() public {
        // (the referee's longest game, 36 h + 1 s at the default move window, is the longer ruling path)
        DeploySuite.Config memory cfg = _cfg();
        cfg.unbondingDelay = 6 days;
        // F = 1d ttl + 1d challenge + 1h batch; R = max(18h voting + 12h timelock, 36 referee moves of 1h + 1s);
        // V = 2d; margin 1d
        uint256 latest = 2 days + 1 hours + (36 hours + 1) + 2 days + 1 days;
        vm.expectRevert(_timingError("fault+ruling+veto+margin<unbond", latest, 6 days));
        this.deployExternal(cfg);
    }

    /// @dev The ruling of a dispute waits the timelock delay, so `timelockDelay < unbondingDelay`
    ///      (staking.md #2) is enforced as part of the dispute path bound.
    function test_RevertWhen_TimelockDelayNotBelowUnbonding() public {
        DeploySuite.Config memory cfg = _cfg();
        cfg.timelockDelay = 21 days;
        uint256 latest = 2 days + 1 hours + 18 hours + 21 days + 2 days + 1 days;
        vm.expectRevert(_timingError("fault+ruling+veto+margin<unbond", latest, 21 days));
        this.deployExternal(cfg);
    }

    /// @dev A governance veto (proposal vote + timelock) must land inside the WrongResult veto window.
    function test_RevertWhen_GovernanceCannotVetoInsideTheWindow() public {
        DeploySuite.Config memory cfg = _cfg();
        cfg.votingPeriod = 10_800; // 36h at 12s + 12s delay + 12h timelock >= 2d
        vm.expectRevert(_timingError("vetoLatency<vetoWindow", 10_801 * 12 + 12 hours, 2 days));
        this.deployExternal(cfg);
    }

    /// @dev The dispute voting period is part of the ruling delay R (seconds, exactly as the contract counts it).
    function test_RevertWhen_DisputeVotingOutlastsUnbonding() public {
        DeploySuite.Config memory cfg = _cfg();
        cfg.disputeVotingPeriod = 14 days;
        cfg.unbondingDelay = 19 days;
        uint256 latest = 2 days + 1 hours + 14 days + 12 hours + 2 days + 1 days;
        vm.expectRevert(_timingError("fault+ruling+veto+margin<unbond", latest, 19 days));
        this.deployExternal(cfg);
    }

    /// @dev The proof window includes the request TTL and the batch window (MAX_TTL + challenge + batch).
    function test_RevertWhen_SignerRotationShorterThanProofWindow() public {
        DeploySuite.Config memory cfg = _cfg();
        cfg.signerRotationDelay = 2 days; // < 1d ttl + 1d challenge + 1h batch
        vm.expectRevert(_timingError("faultWindow<=signerRotation", 2 days + 1 hours, 2 days));
        this.deployExternal(cfg);
    }

    /// @notice DeploySuite's mirror of the registry's MAX_TTL and batch window matches the deployed registry,
    ///         and the deployed suite passes the on-chain re-check.
    function test_FaultWindowMirrorsTheDeployedRegistry() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        assertEq(s.registry.faultWindow(), DeploySuite.MAX_TTL + DeploySuite.BATCH_WINDOW); // no model yet
        assertEq(s.registry.batchWindow(), DeploySuite.BATCH_WINDOW);
        assertEq(s.disputes.maxRulingDelay(), uint256(_cfg().disputeVotingPeriod) + _cfg().timelockDelay);
        assertEq(s.referee.MAX_MOVES(), DeploySuite.REFEREE_MAX_MOVES);
        // R is the longer of the vote and the longest referee game.
        assertEq(
            DeploySuite.rulingDelay(_cfg()), Math.max(s.disputes.maxRulingDelay(), s.referee.maxRulingDelay())
        );
        s.slasher.checkTiming();
    }

    function testFuzz_TimingCheckAcceptsExactlyTheDocumentedRegion(
        uint48 unbonding,
        uint32 challenge,
        uint32 disputeVoting,
        uint32 timelockDelay
    ) public {
        DeploySuite.Config memory cfg;
        cfg.unbondingDelay = uint48(bound(unbonding, 1 days, 90 days));
        cfg.maxChallengeWindow = uint32(bound(challenge, 10 minutes, 7 days));
        cfg.disputeVotingPeriod = uint32(bound(disputeVoting, 10 minutes, 14 days));
        cfg.timelockDelay = bound(timelockDelay, 0, 30 days);
        cfg.executionMargin = 1 hours;
        cfg.signerRotationDelay = 30 days;
        uint256 v = 2 days;
        uint256 latest = 1 days + uint256(cfg.maxChallengeWindow) + 1 hours + cfg.disputeVotingPeriod
            + cfg.timelockDelay + v + 1 hours;
        if (latest >= cfg.unbondingDelay) {
            vm.expectRevert(_timingError("fault+ruling+veto+margin<unbond", latest, cfg.unbondingDelay));
        } else if (cfg.timelockDelay >= v) {
            vm.expectRevert(_timingError("vetoLatency<vetoWindow", cfg.timelockDelay, v));
        }
        this.checkTimingExternal(cfg, v);
    }

    /// @notice The registry's view contract and its governance and delivery modules are deployed by the registry
    ///         itself (their code cannot be swapped), reached at the registry's address, and governed by the
    ///         timelock like the rest of the registry.
    function test_RegistryModulesAreDeployedByTheRegistryAndGovernedByTheTimelock() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        InferenceRegistry reg = InferenceRegistry(address(s.registry));
        assertGt(reg.viewImplementation().code.length, 0);
        assertGt(reg.deliveryModule().code.length, 0);
        assertGt(reg.adminModule().code.length, 0);
        (,,,, address verifyingContract,,) = s.registry.eip712Domain();
        assertEq(verifyingContract, address(s.registry));
        (uint32 maxOutputBytes, uint256 callbackGasPrice,,) = s.registry.deliveryParams();
        assertEq(maxOutputBytes, 512);
        assertEq(callbackGasPrice, 1e9);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, deployer, ADMIN)
        );
        vm.prank(deployer);
        s.registry.setDeliveryParams(256, 1);
        vm.prank(address(s.timelock));
        s.registry.setDeliveryParams(256, 1);
        (maxOutputBytes,,,) = s.registry.deliveryParams();
        assertEq(maxOutputBytes, 256);
    }

    function test_WritesManifestWithEveryContract() public {
        DeploySuite.Suite memory s = _deploy(_cfg());
        string memory path = script.writeManifest(s);
        string memory json = vm.readFile(path);
        assertEq(vm.parseJsonUint(json, ".chainId"), block.chainid);
        assertEq(vm.parseJsonUint(json, ".block"), s.block);
        assertEq(vm.parseJsonAddress(json, ".contracts.VerinferToken"), address(s.token));
        assertEq(vm.parseJsonAddress(json, ".contracts.Staking"), address(s.staking));
        assertEq(vm.parseJsonAddress(json, ".contracts.Slasher"), address(s.slasher));
        assertEq(vm.parseJsonAddress(json, ".contracts.TimelockController"), address(s.timelock));
        assertEq(vm.parseJsonAddress(json, ".contracts.InferenceRegistry"), address(s.registry));
        assertEq(vm.parseJsonAddress(json, ".contracts.IdentityRegistry"), address(s.identity));
        assertEq(vm.parseJsonAddress(json, ".contracts.QuadraticVotes"), address(s.votes));
        assertEq(vm.parseJsonAddress(json, ".contracts.VerinferGovernor"), address(s.governor));
        assertEq(vm.parseJsonAddress(json, ".contracts.DisputeGovernor"), address(s.disputes));
        assertEq(vm.parseJsonAddress(json, ".contracts.Referee"), address(s.referee));
        assertEq(vm.parseJsonKeys(json, ".contracts").length, 10);
        assertEq(vm.parseJsonKeys(json, ".").length, 3);
        vm.removeFile(path);
    }

    /// @dev External entry so that `vm.expectRevert` sees the revert at the call depth it expects.
    function deployExternal(DeploySuite.Config memory cfg) external returns (DeploySuite.Suite memory) {
        return _deploy(cfg);
    }

    /// @dev External wrapper of the pure timing check.
    function checkTimingExternal(DeploySuite.Config memory cfg, uint256 vetoWindow) external pure {
        DeploySuite.checkTiming(cfg, vetoWindow);
    }
}
