// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {InferenceRegistry} from "../../contracts/registry/InferenceRegistry.sol";
import {RegistryBase} from "./RegistryBase.t.sol";

/// @notice EIP-712 attestations: recording, quorum, signature validation, relaying in arrays, interop.
contract RegistryAttestationsTest is RegistryBase {
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant OUT = keccak256("output");

    // ------------------------------------------------------------------ recording & quorum
    function test_SubmitAttestationRecordsAnswer() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory sig = _sign(a, signerKey[op]);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.AnswerRecorded(rid, op, OUT);
        vm.prank(makeAddr("relayer"));
        registry.submitAttestation(a, sig);
        (bool answered, bytes32 out) = registry.answerOf(rid, op);
        assertTrue(answered);
        assertEq(out, OUT);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(v.respondedMask, 1);
        assertEq(v.agreeMask, 1);
        assertEq(v.output, OUT);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Open));
    }

    function test_QuorumReachedOpensWindowNotBeforeDeadline() public {
        uint256 rid = _request(detModel);
        uint40 deadline = registry.request(rid).deadline;
        _answer(rid, 0, OUT);
        vm.expectEmit(address(registry));
        emit IInferenceRegistry.QuorumReached(rid, OUT, uint40(block.timestamp + WINDOW));
        _answer(rid, 1, OUT);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Quorum));
        assertEq(v.windowEnd, block.timestamp + WINDOW);
        assertGe(v.windowEnd, deadline);
    }

    function test_WindowEndIsDeadlineWhenLater() public {
        vm.prank(client);
        uint256 rid =
            registry.requestInference(optModel, keccak256("in"), "", FEE, uint40(block.timestamp + 20 hours));
        _answer(rid, 0, OUT);
        assertEq(registry.request(rid).windowEnd, block.timestamp + 20 hours);
    }

    function test_LateAgreeingAnswerAcceptedInQuorum() public {
        uint256 rid = _request(detModel);
        _answer(rid, 0, OUT);
        _answer(rid, 1, OUT);
        _answer(rid, 2, OUT);
        assertEq(registry.request(rid).agreeMask, 7);
    }

    function test_MajorityOutputIsPromotedOverFirstAnswer() public {
        uint256 rid = _request(detModel);
        address first = _answer(rid, 0, keccak256("minority"));
        _answer(rid, 1, OUT);
        assertEq(registry.request(rid).output, keccak256("minority")); // tie keeps the first
        _answer(rid, 2, OUT);
        IInferenceRegistry.RequestView memory v = registry.request(rid);
        assertEq(v.output, OUT);
        assertEq(v.agreeMask, 6);
        assertEq(uint8(v.status), uint8(IInferenceRegistry.RequestStatus.Quorum));
        (, bytes32 firstOut) = registry.answerOf(rid, first);
        assertEq(firstOut, keccak256("minority"));
    }

    function test_OperatorsWithCollidingFingerprintsAreToldApart() public {
        bytes32 m = registry.registerModel(keccak256("fp"), keccak256("fp"), _detParams(3, 3));
        address[3] memory same;
        uint256[3] memory keys;
        for (uint256 j; j < 3; ++j) {
            // forge-lint: disable-next-line(unsafe-typecast)
            same[j] = address(uint160(0xA000 + 0x10 * j + 0x7)); // identical low nibble 0x7
            (address hot, uint256 pk) = makeAddrAndKey(string.concat("fp-hot", vm.toString(j)));
            keys[j] = pk;
            staking.setOperator(same[j], hot, STAKE);
            vm.prank(same[j]);
            registry.serveModel(m);
        }
        vm.prank(client);
        uint256 rid =
            registry.requestInference(m, keccak256("in"), "", FEE, uint40(block.timestamp + 1 hours));
        address[] memory a = registry.assignedOperators(rid);
        for (uint256 i; i < 3; ++i) {
            uint256 key;
            for (uint256 j; j < 3; ++j) {
                if (same[j] == a[i]) key = keys[j];
            }
            IInferenceRegistry.Attestation memory att = _att(rid, a[i], OUT);
            registry.submitAttestation(att, _sign(att, key));
            (bool answered,) = registry.answerOf(rid, a[i]);
            assertTrue(answered);
        }
        assertEq(registry.request(rid).respondedMask, 7);
        assertEq(uint8(_status(rid)), uint8(IInferenceRegistry.RequestStatus.Quorum));
    }

    // ------------------------------------------------------------------ reverts
    function test_RevertWhen_UnknownRequest() public {
        IInferenceRegistry.Attestation memory a =
            IInferenceRegistry.Attestation(ops[0], 99, detModel, bytes32(0), OUT);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.UnknownRequest.selector, 99));
        registry.submitAttestation(a, new bytes(65));
    }

    function test_RevertWhen_DeadlinePassed() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory sig = _sign(a, signerKey[op]);
        uint40 deadline = registry.request(rid).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.DeadlinePassed.selector, rid, deadline));
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_RequestFinalized() public {
        uint256 rid = _request(optModel);
        _answer(rid, 0, OUT);
        _toFinal(rid);
        registry.finalize(rid);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceRegistry.NotAcceptingAnswers.selector,
                rid,
                IInferenceRegistry.RequestStatus.Finalized
            )
        );
        registry.submitAttestation(a, new bytes(65));
    }

    function test_RevertWhen_ModelOrInputMismatch() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        a.modelId = optModel;
        bytes memory sig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AttestationMismatch.selector, rid));
        registry.submitAttestation(a, sig);
        a = _att(rid, op, OUT);
        a.inputHash = keccak256("other input");
        sig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AttestationMismatch.selector, rid));
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_OutputHashReserved() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, bytes32(0));
        bytes memory sig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidOutputHash.selector, bytes32(0)));
        registry.submitAttestation(a, sig);
        a.outputHash = bytes32(uint256(1));
        sig = _sign(a, signerKey[op]);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceRegistry.InvalidOutputHash.selector, bytes32(uint256(1)))
        );
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_OperatorNotAssigned() public {
        uint256 rid = _request(detModel);
        address outsider;
        for (uint256 i; i < ops.length; ++i) {
            if (!_isAssigned(rid, ops[i])) outsider = ops[i];
        }
        IInferenceRegistry.Attestation memory a = _att(rid, outsider, OUT);
        bytes memory sig = _sign(a, signerKey[outsider]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.NotAssigned.selector, rid, outsider));
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_DuplicateAttestation() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory sig = _sign(a, signerKey[op]);
        registry.submitAttestation(a, sig);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AlreadyAnswered.selector, rid, op));
        registry.submitAttestation(a, sig);
        // a different output from the same operator is not a second answer either
        a.outputHash = keccak256("other");
        sig = _sign(a, signerKey[op]);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.AlreadyAnswered.selector, rid, op));
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_SignedByOwnerNotHotKey() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        (, uint256 ownerPk) = makeAddrAndKey("someone-else");
        bytes memory sig = _sign(a, ownerPk);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, sig);
    }

    function test_RevertWhen_SignatureWrongLength() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], registry.attestationDigest(a));
        bytes32 vs = bytes32(uint256(v - 27) << 255) | s;
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, vs)); // EIP-2098 compact form is not accepted
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, s, v, uint8(0)));
    }

    function test_RevertWhen_BadV() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], registry.attestationDigest(a));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, s, v - 27)); // v in {0,1}
    }

    function test_SignerRotationHonouredAtSubmission() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory oldSig = _sign(a, signerKey[op]);
        (address newSigner, uint256 newPk) = makeAddrAndKey("rotated");
        staking.setSigner(op, newSigner);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, oldSig);
        registry.submitAttestation(a, _sign(a, newPk));
        (bool answered,) = registry.answerOf(rid, op);
        assertTrue(answered);
    }

    function test_RevertWhen_SignatureForOtherRegistry() public {
        IInferenceRegistry other = IInferenceRegistry(
            address(
                new InferenceRegistry(IStaking(address(staking)), ISlasher(address(slasher)), treasury, admin)
            )
        );
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], other.attestationDigest(a));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, s, v));
    }

    // ------------------------------------------------------------------ arrays
    function test_SubmitAttestationsAcrossRequests() public {
        uint256 r1 = _request(detModel);
        uint256 r2 = _request(optModel);
        IInferenceRegistry.Attestation[] memory atts = new IInferenceRegistry.Attestation[](3);
        bytes[] memory sigs = new bytes[](3);
        address[] memory a1 = registry.assignedOperators(r1);
        atts[0] = _att(r1, a1[0], OUT);
        atts[1] = _att(r1, a1[1], OUT);
        atts[2] = _att(r2, registry.assignedOperators(r2)[0], OUT);
        for (uint256 i; i < 3; ++i) {
            sigs[i] = _sign(atts[i], signerKey[atts[i].operator]);
        }
        registry.submitAttestations(atts, sigs);
        assertEq(uint8(_status(r1)), uint8(IInferenceRegistry.RequestStatus.Quorum));
        assertEq(uint8(_status(r2)), uint8(IInferenceRegistry.RequestStatus.Quorum));
    }

    function test_SubmitAttestationsSameOperatorUsesCachedSigner() public {
        // same operator answering two requests in a row: the cached signer must still be checked
        uint256 r1 = _request(optModel);
        address op = registry.assignedOperators(r1)[0];
        uint256 r2;
        for (uint256 i; i < 50; ++i) {
            vm.roll(block.number + 1);
            vm.prevrandao(bytes32(i));
            r2 = _request(optModel);
            if (registry.assignedOperators(r2)[0] == op) break;
        }
        require(registry.assignedOperators(r2)[0] == op, "no repeat pick");
        IInferenceRegistry.Attestation[] memory atts = new IInferenceRegistry.Attestation[](2);
        bytes[] memory sigs = new bytes[](2);
        atts[0] = _att(r1, op, OUT);
        atts[1] = _att(r2, op, OUT);
        sigs[0] = _sign(atts[0], signerKey[op]);
        (, uint256 wrongPk) = makeAddrAndKey("wrong");
        sigs[1] = _sign(atts[1], wrongPk);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestations(atts, sigs);
        sigs[1] = _sign(atts[1], signerKey[op]);
        registry.submitAttestations(atts, sigs);
    }

    function test_RevertWhen_ArraysMismatchOrBadLength() public {
        IInferenceRegistry.Attestation[] memory atts = new IInferenceRegistry.Attestation[](2);
        bytes[] memory sigs = new bytes[](1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.LengthMismatch.selector, 2, 1));
        registry.submitAttestations(atts, sigs);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.BadArrayLength.selector, 0, 64));
        registry.submitAttestations(new IInferenceRegistry.Attestation[](0), new bytes[](0));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.BadArrayLength.selector, 65, 64));
        registry.submitAttestations(new IInferenceRegistry.Attestation[](65), new bytes[](65));
    }

    // ------------------------------------------------------------------ interop
    /// @dev Hashes the typed data exactly as a wallet's eth_signTypedData_v4 would, from JSON.
    function test_Eip712DigestMatchesEthSignTypedDataV4() public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        string memory json = string.concat(
            '{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},',
            '{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],',
            '"Attestation":[{"name":"operator","type":"address"},{"name":"requestId","type":"uint256"},',
            '{"name":"modelId","type":"bytes32"},{"name":"inputHash","type":"bytes32"},',
            '{"name":"outputHash","type":"bytes32"}]},"primaryType":"Attestation",',
            '"domain":{"name":"verinfer","version":"1","chainId":',
            vm.toString(block.chainid),
            ',"verifyingContract":"',
            vm.toString(address(registry)),
            '"},"message":{"operator":"',
            vm.toString(op),
            '","requestId":',
            vm.toString(rid),
            ',"modelId":"',
            vm.toString(a.modelId),
            '","inputHash":"',
            vm.toString(a.inputHash),
            '","outputHash":"',
            vm.toString(a.outputHash),
            '"}}'
        );
        bytes32 walletDigest = vm.eip712HashTypedData(json);
        assertEq(walletDigest, registry.attestationDigest(a));

        // and by hand from the type strings
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("verinfer"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "Attestation(address operator,uint256 requestId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash)"
                ),
                a.operator,
                a.requestId,
                a.modelId,
                a.inputHash,
                a.outputHash
            )
        );
        assertEq(keccak256(abi.encodePacked("\x19\x01", domain, structHash)), walletDigest);
        assertEq(registry.domainSeparator(), domain);

        // a signature over the wallet digest is accepted
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], walletDigest);
        registry.submitAttestation(a, abi.encodePacked(r, s, v));
    }

    // ------------------------------------------------------------------ fuzz
    function testFuzz_RandomHotKeyAccepted(uint256 pk, bytes32 out) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        vm.assume(out != bytes32(0) && out != bytes32(uint256(1)));
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        staking.setSigner(op, vm.addr(pk));
        IInferenceRegistry.Attestation memory a = _att(rid, op, out);
        registry.submitAttestation(a, _sign(a, pk));
        (bool answered, bytes32 got) = registry.answerOf(rid, op);
        assertTrue(answered);
        assertEq(got, out);
    }

    function testFuzz_RejectsKeyOtherThanSigner(uint256 pk) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        vm.assume(vm.addr(pk) != staking.signerOf(op));
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory sig = _sign(a, pk);
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, sig);
    }

    function testFuzz_MalleableHighSRejected(uint256 pk, bytes32 out) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        vm.assume(out != bytes32(0) && out != bytes32(uint256(1)));
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        staking.setSigner(op, vm.addr(pk));
        IInferenceRegistry.Attestation memory a = _att(rid, op, out);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, registry.attestationDigest(a));
        bytes32 flippedS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // the flipped signature is a valid ecrecover preimage of the same signer...
        assertEq(ecrecover(registry.attestationDigest(a), flippedV, r, flippedS), vm.addr(pk));
        // ...but the registry rejects it
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, flippedS, flippedV));
    }

    function testFuzz_GarbageSignatureRejected(bytes32 r, bytes32 s, uint8 v) public {
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        (uint8 v0, bytes32 r0, bytes32 s0) = vm.sign(signerKey[op], registry.attestationDigest(a));
        vm.assume(!(r == r0 && s == s0 && v == v0));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, s, v));
    }

    function testFuzz_WrongChainRejected(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        uint256 rid = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        uint256 home = block.chainid;
        vm.chainId(chainId);
        bytes32 foreignDigest = registry.attestationDigest(a); // as signed for the other chain
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey[op], foreignDigest);
        vm.chainId(home);
        assertTrue(foreignDigest != registry.attestationDigest(a));
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, abi.encodePacked(r, s, v));
    }

    function testFuzz_SignatureDoesNotTransferToOtherRequestOrOutput(uint8 field) public {
        uint256 rid = _request(detModel);
        uint256 rid2 = _request(detModel);
        address op = registry.assignedOperators(rid)[0];
        IInferenceRegistry.Attestation memory a = _att(rid, op, OUT);
        bytes memory sig = _sign(a, signerKey[op]);
        field = field % 2;
        if (field == 0) a.outputHash = keccak256("tampered");
        else if (_isAssigned(rid2, op)) a = _att(rid2, op, OUT);
        else a.outputHash = keccak256("tampered2");
        vm.expectRevert(abi.encodeWithSelector(IInferenceRegistry.InvalidSignature.selector, op));
        registry.submitAttestation(a, sig);
    }
}
