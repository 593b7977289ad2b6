// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {RegistryBase} from "../registry/RegistryBase.t.sol";
import {RegistryStakingBase} from "../registry/RegistryStakingIntegration.t.sol";
import {EasLikeBaseline} from "./baseline/EasLikeBaseline.sol";

/// @notice Gas of the registry's hot paths, with an EAS-like baseline in the same run.
/// @dev Method (docs/attestation.md#gas): total = 21000 (intrinsic) + calldata gas (16 per non-zero byte,
///      4 per zero byte, of the exact ABI-encoded call) + execution gas measured with gasleft() around a
///      low-level call carrying that calldata. Before measuring, every storage slot of the called contract
///      and of Staking is made cold (vm.cool) and the called account itself is warmed, as `tx.to` is in a
///      real transaction. Refunds are not subtracted.
contract RegistryGasTest is RegistryBase {
    bytes32 internal constant OUT = keccak256("output");

    // Prepared in setUp, i.e. in earlier transactions than the measured call, so that SSTORE costs see the
    // slots' committed values (EIP-2200 "original" values) exactly as a real transaction would.
    uint256 internal openRid;
    uint256 internal doneRid;
    uint256 internal halfRid;
    bytes internal quorumCall;
    uint256 internal batchRid;
    uint256 internal batchId;
    bytes internal attCall0;
    bytes internal attCall2;
    bytes internal revealCall;

    function setUp() public override {
        super.setUp();
        openRid = _request(detModel);
        attCall0 = _signedCall(openRid, 0);
        attCall2 = _signedCall(openRid, 2);
        halfRid = _request(detModel);
        _answer(halfRid, 0, OUT);
        quorumCall = _signedCall(halfRid, 1);
        doneRid = _request(detModel);
        _answer(doneRid, 0, OUT);
        _answer(doneRid, 1, OUT);
        _answer(doneRid, 2, OUT);
        batchRid = _request(detModel);
        address op = registry.assignedOperators(batchRid)[0];
        bytes32[] memory proof = new bytes32[](8);
        bytes32 node = _leaf(op, batchRid, OUT);
        for (uint256 i; i < 8; ++i) {
            proof[i] = keccak256(abi.encode("sibling", i));
            node = node < proof[i]
                ? keccak256(abi.encode(node, proof[i]))
                : keccak256(abi.encode(proof[i], node));
        }
        vm.prank(op);
        batchId = registry.commitBatch(node, 256);
        revealCall = abi.encodeCall(registry.revealBatchResult, (batchId, batchRid, OUT, proof));
    }

    function _calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// @dev Measures one call as a standalone transaction from `from`; returns the total.
    function _measure(string memory name, address target, address from, bytes memory cd)
        internal
        returns (uint256 total)
    {
        vm.cool(address(registry));
        vm.cool(address(staking));
        vm.cool(address(token));
        vm.cool(target);
        // The called account is `tx.to` of a real transaction: warm.
        uint256 warm = target.balance;
        warm;
        vm.prank(from);
        uint256 g0 = gasleft();
        (bool ok, bytes memory ret) = target.call(cd);
        uint256 exec = g0 - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        uint256 cdGas = _calldataGas(cd);
        total = 21_000 + cdGas + exec;
        console.log(name);
        console.log("  calldata bytes / gas :", cd.length, cdGas);
        console.log("  execution gas        :", exec);
        console.log("  total tx gas         :", total);
    }

    function _signedCall(uint256 rid, uint256 idx) internal view returns (bytes memory) {
        address op = registry.assignedOperators(rid)[idx];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        return abi.encodeCall(registry.submitAttestation, (a, _sign(a, signerKey[op])));
    }

    function _requestCall() internal view returns (bytes memory) {
        return abi.encodeCall(
            registry.requestInference,
            (detModel, keccak256("gas-input"), "ipfs://bafy-input", FEE, uint40(block.timestamp + 1 hours))
        );
    }

    /// @notice One relayed attestation: first answer, quorum-reaching answer, and the last assigned operator
    ///         (each measured as its own transaction against committed state).
    function test_gas_submitAttestation() public {
        uint256 first = _measure(
            "submitAttestation (first answer, operator #0)", address(registry), address(this), attCall0
        );
        assertLe(first, 60_000, "first attestation over 60k");
    }

    /// @notice Worst position: the first answer comes from the last of k=3 assigned operators (3 slot scan).
    function test_gas_submitAttestation_lastOperator() public {
        uint256 last = _measure(
            "submitAttestation (first answer, last operator #2)", address(registry), address(this), attCall2
        );
        assertLe(last, 60_000, "last-operator attestation over 60k");
    }

    /// @notice The second (quorum-reaching) attestation of a request.
    function test_gas_submitAttestation_quorum() public {
        uint256 quorum = _measure(
            "submitAttestation (matching, reaches quorum, #1)", address(registry), address(this), quorumCall
        );
        assertLe(quorum, 60_000, "quorum attestation over 60k");
    }

    /// @notice The EAS-like baseline: a delegated (relayed, EIP-712 signed) attestation storing a full record,
    ///         and a direct one (attester pays, no signature) for reference.
    function test_gas_submitAttestation_baselineEas() public {
        EasLikeBaseline eas = new EasLikeBaseline();
        bytes32 schema = eas.registerSchema(
            "uint256 requestId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash", address(0), true
        );
        uint256 rid = _request(detModel);
        (address attester, uint256 pk) = makeAddrAndKey("eas-attester");
        EasLikeBaseline.AttestationData memory d = _easData(rid);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, eas.attestDigest(schema, d, attester));
        bytes memory cd =
            abi.encodeCall(eas.attestByDelegation, (schema, d, attester, abi.encodePacked(r, s, v)));
        uint256 delegated = _measure("EAS-like attestByDelegation (relayed)", address(eas), address(this), cd);
        d.refUID = bytes32(uint256(1)); // a new uid
        cd = abi.encodeCall(eas.attest, (schema, d));
        uint256 direct = _measure("EAS-like attest (direct, no signature)", address(eas), attester, cd);
        assertGt(delegated, direct);
    }

    function _easData(uint256 rid) internal view returns (EasLikeBaseline.AttestationData memory) {
        return EasLikeBaseline.AttestationData({
            recipient: registry.assignedOperators(rid)[0],
            expirationTime: 0,
            revocable: true,
            refUID: bytes32(0),
            data: abi.encode(rid, detModel, keccak256("in"), OUT)
        });
    }

    /// @notice A Merkle batch commit of 256 results (one root).
    function test_gas_commitBatch256() public {
        bytes memory cd = abi.encodeCall(registry.commitBatch, (keccak256("root-256"), uint32(256)));
        uint256 total = _measure("commitBatch (256 results)", address(registry), ops[0], cd);
        console.log("  per result           :", total / 256);
        assertLe(total / 256, 1000);
    }

    /// @notice A request for the k=3 deterministic model among 6 operators (fee pull + 3 draws).
    function test_gas_requestInference() public {
        _request(detModel); // the token balance slot of the registry exists already, as in steady state
        _measure("requestInference (k=3 of 6 operators)", address(registry), client, _requestCall());
    }

    /// @notice Finalizing a k=3 request where all three agreed (3 credits).
    function test_gas_finalize() public {
        _toFinal(doneRid);
        _measure(
            "finalize (k=3, all agree)",
            address(registry),
            address(this),
            abi.encodeCall(registry.finalize, (doneRid))
        );
    }

    /// @notice A batch reveal (leaf proof of depth 8) counting as an answer.
    function test_gas_revealBatchResult() public {
        _measure("revealBatchResult (depth 8)", address(registry), address(this), revealCall);
    }
}

/// @notice The attestation path against the real Staking contract (signerOf resolves a pending rotation,
///         reading two cold slots instead of the mock's one). Same method as above.
contract RegistryGasRealStakingTest is RegistryStakingBase {
    uint256 internal rid;
    bytes internal call0;
    bytes internal call2;

    function setUp() public override {
        super.setUp();
        rid = _request();
        address[] memory a = registry.assignedOperators(rid);
        IInferenceRegistry.Attestation memory att0 = _att(rid, a[0]);
        IInferenceRegistry.Attestation memory att2 = _att(rid, a[2]);
        call0 = abi.encodeCall(registry.submitAttestation, (att0, _sign(att0, signerKey[a[0]])));
        call2 = abi.encodeCall(registry.submitAttestation, (att2, _sign(att2, signerKey[a[2]])));
    }

    function _measureReal(string memory name, bytes memory cd) internal returns (uint256 total) {
        vm.cool(address(registry));
        vm.cool(address(staking));
        uint256 warm = address(registry).balance;
        warm;
        uint256 g0 = gasleft();
        (bool ok,) = address(registry).call(cd);
        uint256 exec = g0 - gasleft();
        require(ok, "call failed");
        uint256 cdGas;
        for (uint256 i; i < cd.length; ++i) {
            cdGas += cd[i] == 0 ? 4 : 16;
        }
        total = 21_000 + cdGas + exec;
        console.log(name);
        console.log("  calldata bytes / gas :", cd.length, cdGas);
        console.log("  execution gas        :", exec);
        console.log("  total tx gas         :", total);
    }

    /// @notice First answer of a request, from assigned operator #0, real Staking.
    function test_gas_submitAttestation_realStaking() public {
        uint256 total = _measureReal("submitAttestation, real Staking (first answer, #0)", call0);
        assertLe(total, 60_000, "over the 60k target");
    }

    /// @notice First answer from the last of k=3 operators, real Staking (worst position).
    function test_gas_submitAttestation_realStaking_lastOperator() public {
        uint256 total =
            _measureReal("submitAttestation, real Staking (first answer, last operator #2)", call2);
        assertLe(total, 60_000, "over the 60k target");
    }
}
