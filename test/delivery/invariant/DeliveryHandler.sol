// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {IInferenceRegistry} from "../../../contracts/interfaces/IInferenceRegistry.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";
import {MockSlasher} from "../../mocks/MockSlasher.sol";
import {
    GasBurningConsumer,
    RecordingConsumer,
    ReturnBombConsumer,
    RevertingConsumer
} from "../mocks/HostileConsumers.sol";

/// @notice Drives requests with well-behaved and hostile consumers through answers, availability challenges,
///         finalization, delivery and retries. Every delivery is checked on the spot: it may pay its deliverer
///         (and, answering an availability challenge, the attesting operators) and nothing else.
contract DeliveryHandler is Test {
    IInferenceRegistry internal registry;
    MockERC20 internal token;
    MockSlasher internal slasher;
    bytes32 internal model;
    address internal client;
    address internal challenger;
    address public keeper = makeAddr("handler-keeper");
    mapping(address operator => uint256 pk) internal keyOf;

    address[4] public consumers;
    uint256[] public rids;
    mapping(uint256 rid => bytes) internal outputOf;

    /// @notice Deliveries that broke the rule above (must stay 0).
    uint256 public violations;
    /// @notice Deliveries that went through, and those whose callback failed (for non-vacuity).
    uint256 public delivered;
    uint256 public failedCallbacks;

    constructor(
        IInferenceRegistry registry_,
        MockERC20 token_,
        MockSlasher slasher_,
        bytes32 model_,
        address[] memory ops,
        uint256[] memory pks,
        address client_,
        address challenger_
    ) {
        registry = registry_;
        token = token_;
        slasher = slasher_;
        model = model_;
        client = client_;
        challenger = challenger_;
        for (uint256 i; i < ops.length; ++i) {
            keyOf[ops[i]] = pks[i];
        }
        consumers[0] = address(new RecordingConsumer());
        consumers[1] = address(new RevertingConsumer());
        consumers[2] = address(new GasBurningConsumer());
        consumers[3] = address(new ReturnBombConsumer());
    }

    function ridCount() external view returns (uint256) {
        return rids.length;
    }

    function request(uint256 consumerSeed, bool early, bool withConsumer, uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, 10_000, 300_000));
        bytes memory out = abi.encode("out", rids.length);
        uint256 rid;
        vm.startPrank(client);
        if (withConsumer) {
            IInferenceRegistry.CallbackSpec memory cb = IInferenceRegistry.CallbackSpec({
                consumer: consumers[consumerSeed % 4],
                gasLimit: gasLimit,
                early: early,
                fee: registry.callbackFeeFor(gasLimit, early)
            });
            rid = registry.requestInferenceWithCallback(
                model, keccak256(out), "", 1e18, uint40(block.timestamp + 1 hours), cb
            );
        } else {
            rid =
                registry.requestInference(model, keccak256(out), "", 1e18, uint40(block.timestamp + 1 hours));
        }
        vm.stopPrank();
        rids.push(rid);
        outputOf[rid] = out;
    }

    function _pick(uint256 seed) internal view returns (uint256) {
        return rids[seed % rids.length];
    }

    function answer(uint256 ridSeed, uint256 opSeed, bool agree) external {
        uint256 rid = _pick(ridSeed);
        address[] memory ops = registry.assignedOperators(rid);
        address op = ops[opSeed % ops.length];
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        IInferenceRegistry.Attestation memory a = IInferenceRegistry.Attestation({
            operator: op,
            requestId: rid,
            modelId: v.modelId,
            inputHash: v.inputHash,
            outputHash: agree ? keccak256(outputOf[rid]) : keccak256("dissent")
        });
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(keyOf[op], registry.attestationDigest(a));
        try registry.submitAttestation(a, abi.encodePacked(r, s, sv)) {} catch {}
    }

    function requestOutput(uint256 ridSeed) external {
        vm.prank(challenger);
        try registry.requestOutput(_pick(ridSeed)) {} catch {}
    }

    function finalize(uint256 ridSeed) external {
        try registry.finalize(_pick(ridSeed)) {} catch {}
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 2 hours));
    }

    struct Snap {
        uint256 ops; // sum of the assigned operators' credits
        uint256 client;
        uint256 keeper;
        uint256 slashes;
        uint256 callbackFee;
        uint256 outputBond;
        IInferenceRegistry.RequestStatus status;
        IInferenceRegistry.CallbackState state;
    }

    function _snap(uint256 rid) internal view returns (Snap memory s) {
        address[] memory ops = registry.assignedOperators(rid);
        for (uint256 i; i < ops.length; ++i) {
            s.ops += registry.credits(ops[i]);
        }
        s.client = registry.credits(client);
        s.keeper = registry.credits(keeper);
        s.slashes = slasher.callCount();
        IInferenceRegistry.DeliveryView memory d = registry.delivery(rid);
        s.callbackFee = d.callbackFee;
        s.outputBond = d.outputBond;
        s.state = d.state;
        s.status = registry.request(rid).status;
    }

    function deliver(uint256 ridSeed, bool withBytes) external {
        uint256 rid = _pick(ridSeed);
        bytes32 result = registry.request(rid).output;
        bytes memory out = withBytes && result == keccak256(outputOf[rid]) ? outputOf[rid] : bytes("");
        Snap memory a = _snap(rid);
        address caller = out.length == 0 ? client : keeper; // hash-only deliveries: the client
        vm.prank(caller);
        try registry.deliverOutput(rid, out) {}
        catch {
            return;
        }
        ++delivered;
        Snap memory b = _snap(rid);
        if (b.state == IInferenceRegistry.CallbackState.Failed) ++failedCallbacks;
        uint256 paid = a.callbackFee - b.callbackFee;
        // Answering an availability challenge pays its bond to the attesting operators; nothing else does.
        if (b.status != a.status || b.slashes != a.slashes) ++violations;
        if (b.ops != a.ops + (a.outputBond - b.outputBond)) ++violations;
        if (caller == client) {
            if (b.client != a.client + paid) ++violations;
        } else if (b.keeper != a.keeper + paid || b.client != a.client) {
            ++violations;
        }
    }

    function retry(uint256 ridSeed) external {
        uint256 rid = _pick(ridSeed);
        IInferenceRegistry.DeliveryView memory d = registry.delivery(rid);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        bytes memory out = v.output == keccak256(outputOf[rid]) ? outputOf[rid] : bytes("");
        uint256 balance = token.balanceOf(address(registry));
        vm.prank(d.consumer);
        try registry.retryCallback(rid, out) {} catch {}
        if (token.balanceOf(address(registry)) != balance) ++violations;
        if (registry.request(rid).status != v.status) ++violations;
    }

    /// @notice Everything the registry holds that is not yet credited: fees of unsettled requests, escrowed
    ///         callback fees and pending availability bonds.
    function escrowed() external view returns (uint256 total) {
        for (uint256 i; i < rids.length; ++i) {
            IInferenceRegistry.RequestView memory v = registry.request(rids[i]);
            if (
                v.status == IInferenceRegistry.RequestStatus.Open
                    || v.status == IInferenceRegistry.RequestStatus.Quorum
                    || v.status == IInferenceRegistry.RequestStatus.Disputed
            ) total += v.fee;
            IInferenceRegistry.DeliveryView memory d = registry.delivery(rids[i]);
            total += d.callbackFee + d.outputBond;
        }
    }
}
