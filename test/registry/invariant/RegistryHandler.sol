// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {Test} from "forge-std/Test.sol";

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../../contracts/interfaces/ISlasher.sol";
import {InferenceRegistry} from "../../../contracts/registry/InferenceRegistry.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";
import {MockSlasher} from "../../mocks/MockSlasher.sol";
import {RegistryMockStaking as MockStaking} from "../mocks/RegistryMockStaking.sol";
import {TestResolver} from "../mocks/TestResolver.sol";
import {Statements} from "../utils/Statements.sol";

/// @notice Drives the registry through random lifecycles and keeps the ghost state the invariants check.
contract RegistryHandler is Test {
    IInferenceRegistry internal registry;
    MockStaking internal staking;
    MockSlasher internal slasher;
    TestResolver internal resolver;
    MockERC20 internal token;

    address[] public ops;
    uint256[] internal pks;
    bytes32[] internal models;
    address public client;
    address public challenger;
    address public treasury;

    uint256[] public rids;
    mapping(uint256 rid => bool) public snapshotTaken;
    mapping(uint256 rid => bytes32) public snapOutput;
    mapping(uint256 rid => uint8) public snapStatus;
    mapping(uint256 rid => uint8) public snapRewarded;

    uint256 public ghostSettledFees; // fees of requests that were finalized/expired (paid or refunded)
    uint256 public ghostSettledBonds; // bonds of resolved disputes (returned or forfeited)
    uint256 public ghostClaimed;
    uint256 public badAssignments;
    uint256 public finalizedCount;
    uint256 public resolvedCount;
    uint256 public undecidedCount;
    uint256 public ghostSlashesWithoutDecision; // slash requests made while applying an undecided ruling
    uint256 public ghostEvictedWhileQualifying; // evictions of an operator with positive weight
    uint256 public ghostStuckZeroWeightSlots; // failed evictions of a serving operator with zero weight
    uint256 public evictions;

    bytes32[3] internal outs = [keccak256("X"), keccak256("Y"), keccak256("Z")];

    constructor(
        IInferenceRegistry registry_,
        MockStaking staking_,
        MockSlasher slasher_,
        TestResolver resolver_,
        MockERC20 token_,
        address[] memory ops_,
        uint256[] memory pks_,
        bytes32[] memory models_,
        address client_,
        address challenger_,
        address treasury_
    ) {
        registry = registry_;
        staking = staking_;
        slasher = slasher_;
        resolver = resolver_;
        token = token_;
        ops = ops_;
        pks = pks_;
        models = models_;
        client = client_;
        challenger = challenger_;
        treasury = treasury_;
    }

    // ------------------------------------------------------------------ actions
    function request(uint256 modelSeed, uint256 fee, uint256 ttl) external {
        bytes32 m = models[modelSeed % models.length];
        fee = bound(fee, 1e15, 10e18);
        ttl = bound(ttl, 1 minutes, 1 days);
        vm.prank(client);
        try registry.requestInference(
            m, keccak256(abi.encode(rids.length)), "", fee, SafeCast.toUint40(block.timestamp + ttl)
        ) returns (
            uint256 rid
        ) {
            rids.push(rid);
            address[] memory a = registry.assignedOperators(rid);
            for (uint256 i; i < a.length; ++i) {
                (,,, bool jailed) = staking.ops(a[i]);
                if (jailed || !registry.isServing(m, a[i]) || registry.operatorWeight(m, a[i]) == 0) {
                    ++badAssignments;
                }
            }
        } catch {}
        _snapshot();
    }

    function answer(uint256 ridSeed, uint256 idxSeed, uint256 outSeed) external {
        if (rids.length == 0) return;
        uint256 rid = _pick(ridSeed);
        address[] memory a = registry.assignedOperators(rid);
        address op = a[idxSeed % a.length];
        IInferenceRegistry.Attestation memory att = _att(rid, op, outs[outSeed % 5 < 3 ? 0 : outSeed % 3]);
        bytes memory sig = _sign(att, op);
        try registry.submitAttestation(att, sig) {} catch {}
        _snapshot();
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + (secs % 8 == 0 ? bound(secs, 1, 2 days) : bound(secs, 1, 40 minutes)));
        vm.roll(block.number + 1);
    }

    function finalize(uint256 ridSeed) external {
        if (rids.length == 0) return;
        uint256 rid = _pick(ridSeed);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        try registry.finalize(rid) {
            ghostSettledFees += v.fee;
            ++finalizedCount;
        } catch {}
        _snapshot();
    }

    function challenge(uint256 ridSeed, uint256 outSeed) external {
        if (rids.length == 0) return;
        uint256 rid = _pick(ridSeed);
        vm.prank(challenger);
        try registry.challenge(rid, outSeed % 4 == 3 ? bytes32(0) : outs[outSeed % 3]) {} catch {}
        _snapshot();
    }

    function escalate(uint256 ridSeed) external {
        if (rids.length == 0) return;
        try registry.escalate(_pick(ridSeed)) {} catch {}
        _snapshot();
    }

    function resolve(uint256 disputeSeed, uint256 outSeed) external {
        uint256 n = resolver.count();
        if (n == 0) return;
        uint256 did = 1 + disputeSeed % n;
        IInferenceRegistry.RequestView memory v = registry.request(resolver.requestOf(did));
        if (outSeed % 5 == 4) {
            // No quorum: an undecided ruling must never request a slash.
            uint256 before = slasher.callCount();
            try resolver.resolveUndecided(did) {
                ghostSettledFees += v.fee;
                ghostSettledBonds += v.bond;
                ++resolvedCount;
                ++undecidedCount;
                ghostSlashesWithoutDecision += slasher.callCount() - before;
            } catch {}
        } else {
            try resolver.resolve(did, outSeed % 4 == 3 ? bytes32(0) : outs[outSeed % 3]) {
                ghostSettledFees += v.fee;
                ghostSettledBonds += v.bond;
                ++resolvedCount;
            } catch {}
        }
        _snapshot();
    }

    /// @dev Anyone evicts an operator from a model: allowed exactly when its weight for the model is 0.
    function evict(uint256 opSeed, uint256 modelSeed) external {
        address op = ops[opSeed % ops.length];
        bytes32 m = models[modelSeed % models.length];
        bool serving = registry.isServing(m, op);
        uint256 weight = registry.operatorWeight(m, op);
        try registry.evict(m, op) {
            ++evictions;
            if (weight != 0) ++ghostEvictedWhileQualifying;
        } catch {
            if (serving && weight == 0) ++ghostStuckZeroWeightSlots;
        }
    }

    function reportMissed(uint256 ridSeed, uint256 idxSeed) external {
        if (rids.length == 0) return;
        uint256 rid = _pick(ridSeed);
        address[] memory a = registry.assignedOperators(rid);
        try registry.reportMissed(rid, a[idxSeed % a.length]) {} catch {}
        _snapshot();
    }

    function equivocate(uint256 ridSeed, uint256 idxSeed) external {
        if (rids.length == 0) return;
        uint256 rid = _pick(ridSeed);
        address[] memory a = registry.assignedOperators(rid);
        address op = a[idxSeed % a.length];
        IInferenceRegistry.Attestation memory a1 = _att(rid, op, outs[0]);
        IInferenceRegistry.Attestation memory a2 = _att(rid, op, outs[1]);
        bytes memory s1 = _sign(a1, op);
        bytes memory s2 = _sign(a2, op);
        try registry.reportEquivocation(Statements.signed(a1, s1), Statements.signed(a2, s2)) {} catch {}
        _snapshot();
    }

    function claim(uint256 who) external {
        address account = who % 4 == 0
            ? client
            : who % 4 == 1 ? challenger : who % 4 == 2 ? treasury : ops[who % ops.length];
        uint256 c = registry.credits(account);
        vm.prank(account);
        try registry.claim() returns (uint256 amount) {
            ghostClaimed += amount;
            assertEq(amount, c);
        } catch {}
    }

    function jail(uint256 opSeed, bool jailed) external {
        staking.setJailed(ops[opSeed % ops.length], jailed);
    }

    function setStake(uint256 opSeed, uint256 stake) external {
        staking.setStake(ops[opSeed % ops.length], bound(stake, 1e18, 1000e18));
    }

    function toggleServing(uint256 opSeed, uint256 modelSeed) external {
        address op = ops[opSeed % ops.length];
        bytes32 m = models[modelSeed % models.length];
        bool serving = registry.isServing(m, op);
        vm.prank(op);
        if (serving) {
            registry.stopServing(m);
        } else {
            try registry.serveModel(m) {} catch {}
        }
    }

    // ------------------------------------------------------------------ helpers & views
    function ridCount() external view returns (uint256) {
        return rids.length;
    }

    function accounts() external view returns (address[] memory list) {
        list = new address[](ops.length + 3);
        for (uint256 i; i < ops.length; ++i) {
            list[i] = ops[i];
        }
        list[ops.length] = client;
        list[ops.length + 1] = challenger;
        list[ops.length + 2] = treasury;
    }

    /// @dev Mostly one of the three newest requests, so lifecycles complete before deadlines pass.
    function _pick(uint256 seed) internal view returns (uint256) {
        uint256 n = rids.length;
        if (seed % 4 == 0) return rids[(seed >> 8) % n];
        uint256 span = n < 3 ? n : 3;
        return rids[n - 1 - (seed >> 8) % span];
    }

    function _snapshot() internal {
        for (uint256 i; i < rids.length; ++i) {
            uint256 rid = rids[i];
            if (snapshotTaken[rid]) continue;
            IInferenceRegistry.RequestView memory v = registry.request(rid);
            if (
                v.status == IInferenceRegistry.RequestStatus.Finalized
                    || v.status == IInferenceRegistry.RequestStatus.Expired
            ) {
                snapshotTaken[rid] = true;
                snapOutput[rid] = v.output;
                snapStatus[rid] = uint8(v.status);
                snapRewarded[rid] = v.rewardedMask;
            }
        }
    }

    function _att(uint256 rid, address op, bytes32 out)
        internal
        view
        returns (IInferenceRegistry.Attestation memory)
    {
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        return IInferenceRegistry.Attestation(op, rid, v.modelId, v.inputHash, out);
    }

    function _sign(IInferenceRegistry.Attestation memory att, address op)
        internal
        view
        returns (bytes memory)
    {
        uint256 pk;
        for (uint256 i; i < ops.length; ++i) {
            if (ops[i] == op) pk = pks[i];
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, registry.attestationDigest(att));
        return abi.encodePacked(r, s, v);
    }
}
