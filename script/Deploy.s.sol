// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Script} from "forge-std/Script.sol";

import {DeploySuite} from "./DeploySuite.sol";

/// @title Deploy
/// @notice Deploys and wires the verinfer suite (see `DeploySuite`) and writes `deployments/<chainId>.json`.
/// @dev Parameters come from the environment, with defaults:
///      STAKING_TOKEN (0 = deploy VerinferToken), TOKEN_SUPPLY (1e9 tokens), TREASURY (0 = the timelock),
///      MIN_OPERATOR_STAKE (10 000 tokens), UNBONDING_DELAY (21 days), SIGNER_ROTATION_DELAY (3 days),
///      TIMELOCK_DELAY (12 hours), MAX_CHALLENGE_WINDOW (1 day),
///      EXECUTION_MARGIN (1 day), BLOCK_TIME (12 s), VOTING_DELAY (1 block), VOTING_PERIOD (5400 blocks),
///      DISPUTE_VOTING_PERIOD (18 hours, in seconds), QUORUM_BPS (100: 1% of voice, both governors; chosen
///      with RESIDUAL_K from measurements, docs/governance.md "The quorum, from measurements"),
///      DELEGATE_CAP_BPS (1000), RESIDUAL_K
///      (10: a proposal passes only if its for side reaches quorum without its 10 largest voices; 0 = off),
///      PROPOSAL_THRESHOLD (voice units; default sqrt(MIN_OPERATOR_STAKE) = 1e11, the voice of one minimum
///      operator stake in one identity; proposals to the suite need twice that), REFEREE_MOVE_WINDOW (1 hour),
///      WRITE_MANIFEST (true).
///      Usage: `forge script script/Deploy.s.sol --rpc-url $RPC --broadcast --private-key $KEY`.
contract Deploy is Script {
    /// @notice Reads the configuration from the environment.
    /// @param deployer The address that sends every deployment transaction.
    /// @return cfg The configuration.
    function configFromEnv(address deployer) public view returns (DeploySuite.Config memory cfg) {
        cfg.deployer = deployer;
        cfg.stakingToken = vm.envOr("STAKING_TOKEN", address(0));
        cfg.tokenSupply = vm.envOr("TOKEN_SUPPLY", uint256(1e9 ether));
        cfg.treasury = vm.envOr("TREASURY", address(0));
        cfg.minOperatorStake = vm.envOr("MIN_OPERATOR_STAKE", uint256(10_000 ether));
        cfg.unbondingDelay = uint48(vm.envOr("UNBONDING_DELAY", uint256(21 days)));
        cfg.signerRotationDelay = uint48(vm.envOr("SIGNER_ROTATION_DELAY", uint256(3 days)));
        cfg.timelockDelay = vm.envOr("TIMELOCK_DELAY", uint256(12 hours));
        cfg.maxChallengeWindow = uint32(vm.envOr("MAX_CHALLENGE_WINDOW", uint256(1 days)));
        cfg.executionMargin = uint32(vm.envOr("EXECUTION_MARGIN", uint256(1 days)));
        cfg.blockTime = uint32(vm.envOr("BLOCK_TIME", uint256(12)));
        cfg.votingDelay = uint48(vm.envOr("VOTING_DELAY", uint256(1)));
        cfg.votingPeriod = uint32(vm.envOr("VOTING_PERIOD", uint256(5400)));
        cfg.disputeVotingPeriod = uint32(vm.envOr("DISPUTE_VOTING_PERIOD", uint256(18 hours)));
        cfg.quorumBps = uint16(vm.envOr("QUORUM_BPS", uint256(100)));
        cfg.delegateCapBps = uint16(vm.envOr("DELEGATE_CAP_BPS", uint256(1000)));
        cfg.residualK = uint8(vm.envOr("RESIDUAL_K", uint256(10)));
        cfg.proposalThreshold = vm.envOr("PROPOSAL_THRESHOLD", Math.sqrt(cfg.minOperatorStake));
        cfg.refereeMoveWindow = uint32(vm.envOr("REFEREE_MOVE_WINDOW", uint256(1 hours)));
    }

    /// @notice Deploys the suite from the broadcaster and writes the manifest.
    /// @return s The deployed suite.
    function run() external returns (DeploySuite.Suite memory s) {
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        s = DeploySuite.deploySuite(configFromEnv(deployer));
        vm.stopBroadcast();
        if (vm.envOr("WRITE_MANIFEST", true)) writeManifest(s);
    }

    /// @notice Writes `deployments/<chainId>.json` for `s` (only the contracts that exist).
    /// @param s The deployed suite.
    /// @return path The file written.
    function writeManifest(DeploySuite.Suite memory s) public returns (string memory path) {
        string memory c = "contracts";
        vm.serializeAddress(c, "VerinferToken", address(s.token));
        vm.serializeAddress(c, "Staking", address(s.staking));
        vm.serializeAddress(c, "Slasher", address(s.slasher));
        vm.serializeAddress(c, "InferenceRegistry", address(s.registry));
        vm.serializeAddress(c, "IdentityRegistry", address(s.identity));
        vm.serializeAddress(c, "QuadraticVotes", address(s.votes));
        vm.serializeAddress(c, "VerinferGovernor", address(s.governor));
        vm.serializeAddress(c, "DisputeGovernor", address(s.disputes));
        vm.serializeAddress(c, "Referee", address(s.referee));
        string memory contracts = vm.serializeAddress(c, "TimelockController", address(s.timelock));

        string memory root = "manifest";
        vm.serializeUint(root, "chainId", block.chainid);
        vm.serializeUint(root, "block", s.block);
        string memory json = vm.serializeString(root, "contracts", contracts);
        path = string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        vm.writeJson(json, path);
    }
}
