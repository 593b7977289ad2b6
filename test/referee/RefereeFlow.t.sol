// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {ISlasher} from "../../contracts/interfaces/ISlasher.sol";
import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";
import {SecurityBase} from "../security/SecurityBase.sol";
import {IntMlpFixture} from "./IntMlpFixture.sol";

/// @notice Flow-level, on the suite exactly as `DeploySuite` deploys it: the digits classifier
///         (`models/digits/digits.vimlp`) registered with its weights root and the integer-MLP spec, two
///         colluding operators attest a wrong output, an honest party challenges, the registry sends the
///         dispute to the referee (not to a vote), the game runs, the colluders are slashed and the request
///         finalizes with the right output.
contract RefereeFlowTest is SecurityBase {
    using IntMlpFixture for IntMlpFixture.Trace;

    /// @dev The integer logits `models/digits/reference.csv` gives for test image 0 (`_pixels`, label 7),
    ///      computed by `train.py` and reproduced by the Rust runtime.
    int8[10] internal expectedLogits = [int8(14), -22, -4, -20, 6, -13, -39, 34, 11, 28];

    IntMlpFixture.Model internal digits;
    bytes32[] internal tree;
    bytes32 internal digitsModel;
    bytes internal input;

    function setUp() public override {
        super.setUp();
        IntMlpFixture.Model memory mm = IntMlpFixture.parse(vm.readFileBinary("models/digits/digits.vimlp"));
        digits.inputMin = mm.inputMin;
        digits.inputMax = mm.inputMax;
        for (uint256 l; l < mm.layers.length; ++l) {
            digits.layers.push(mm.layers[l]);
        }
        tree = IntMlpFixture.weightsTree(mm);
        vm.prank(address(s.timelock));
        digitsModel = s.registry
            .registerModel(
                tree[0],
                IntMlpStep.RUNTIME_SPEC_HASH,
                _modelParams(IInferenceRegistry.VerificationMode.Deterministic, 3, 2)
            );
        bytes32[] memory models = new bytes32[](1);
        models[0] = digitsModel;
        for (uint256 i; i < 3; ++i) {
            _addOperator(string.concat("digits-op", vm.toString(i)), 20_000 ether, models);
        }
        input = _pixels();
    }

    function _pixels() internal pure returns (bytes memory x) {
        uint8[64] memory p = [
            0,
            0,
            2,
            13,
            16,
            9,
            0,
            0,
            0,
            0,
            12,
            12,
            7,
            16,
            3,
            0,
            0,
            1,
            14,
            3,
            0,
            16,
            4,
            0,
            0,
            0,
            0,
            4,
            10,
            16,
            6,
            0,
            0,
            0,
            0,
            13,
            16,
            16,
            9,
            0,
            0,
            0,
            0,
            5,
            13,
            1,
            0,
            0,
            0,
            0,
            0,
            11,
            9,
            0,
            0,
            0,
            0,
            0,
            1,
            16,
            4,
            0,
            0,
            0
        ];
        x = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            x[i] = bytes1(p[i]);
        }
    }

    function test_solidityForwardPassReproducesTheReferenceLogits() public view {
        IntMlpFixture.Trace memory t = IntMlpFixture.forward(digits, input);
        bytes memory out = t.acts[t.acts.length - 1];
        for (uint256 i; i < 10; ++i) {
            assertEq(int8(uint8(out[i])), expectedLogits[i]);
        }
    }

    function test_colludersOnTheDigitsClassifierLoseTheGame_RequestFinalizesRight_NoVote() public {
        IntMlpFixture.Trace memory honest = IntMlpFixture.forward(digits, input);
        // The colluders' trace: a consistent lie in hidden element 5 of layer 0 (everything after recomputed),
        // plus class 0's logit pushed up so the answer differs.
        IntMlpFixture.Trace memory lie = honest.copy();
        lie.acts[0][5] = bytes1(uint8(lie.acts[0][5]) + 40);
        IntMlpFixture.propagate(digits, lie, 0);
        lie.acts[2][0] = bytes1(uint8(lie.acts[2][0]) ^ 0x40);
        bytes32 right = keccak256(honest.acts[2]);
        bytes32 wrong = keccak256(lie.acts[2]);
        assertTrue(right != wrong);

        vm.prank(client);
        uint256 rid = s.registry
            .requestInference(digitsModel, keccak256(input), "", FEE, uint40(block.timestamp + 1 hours));
        address[] memory assigned = s.registry.assignedOperators(rid);
        _answer2(rid, assigned[0], wrong);
        _answer2(rid, assigned[1], wrong);
        _answer2(rid, assigned[2], right);
        assertEq(uint8(s.registry.request(rid).status), uint8(IInferenceRegistry.RequestStatus.Quorum));

        // The honest party challenges; the model decides the path: the referee.
        _identity(challenger);
        vm.prank(challenger);
        uint256 gameId = s.registry.challenge(rid, right);
        assertEq(s.referee.gameOf(rid), gameId);
        assertEq(s.disputes.disputeCount(), 0, "no vote opened");

        _commit(gameId, assigned[0], lie);
        _commit(gameId, challenger, honest);
        for (uint256 d; d < 17; ++d) {
            _reveal(gameId, assigned[1], lie); // either colluder may move for its side
            _reveal(gameId, challenger, honest);
        }
        Referee.Game memory g = s.referee.game(gameId);
        assertEq(g.index >> 11, 0, "first wrong layer");
        Referee.StepProof memory p;
        p.row = IntMlpFixture.row(digits, 0, 5);
        p.rowProof = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(p.row));
        p.input = input;
        vm.prank(challenger);
        s.referee.step(gameId, p);

        IInferenceRegistry.RequestView memory rv = s.registry.request(rid);
        assertEq(uint8(rv.status), uint8(IInferenceRegistry.RequestStatus.Finalized));
        assertEq(rv.output, right);
        assertEq(s.disputes.disputeCount(), 0, "no vote cast");
        for (uint256 i; i < 2; ++i) {
            assertTrue(
                s.slasher.slashIdOf(assigned[i], ISlasher.FaultKind.WrongResult, bytes32(rid)) != 0,
                "colluder slashed"
            );
        }
        assertEq(s.slasher.slashIdOf(assigned[2], ISlasher.FaultKind.WrongResult, bytes32(rid)), 0);
        assertGt(s.registry.credits(assigned[2]), 0, "the honest operator is paid");
        assertEq(s.registry.credits(challenger), BOND, "the challenger's bond comes back");
    }

    function test_disputeOverAModelTheRefereeCannotCheckStillGoesToTheVote() public {
        _addOperators(3, 20_000 ether);
        uint256 rid = _request(detModel);
        address[] memory assigned = s.registry.assignedOperators(rid);
        _answer(rid, assigned[0], OUT_A);
        _answer(rid, assigned[1], OUT_A);
        _identity(challenger);
        vm.roll(block.number + 1); // the vote reads identities at the previous block
        vm.prank(challenger);
        s.registry.challenge(rid, OUT_B);
        assertEq(s.disputes.disputeCount(), 1);
        assertEq(s.referee.gameOf(rid), 0);
    }

    // ------------------------------------------------------------------ helpers

    function _answer2(uint256 rid, address op, bytes32 out) internal {
        IInferenceRegistry.Attestation memory a =
            IInferenceRegistry.Attestation(op, rid, digitsModel, keccak256(input), out);
        s.registry.submitAttestation(a, _sign(a));
    }

    function _commit(uint256 gameId, address who, IntMlpFixture.Trace memory t) internal {
        IntMlpStep.Row memory r = IntMlpFixture.row(digits, 2, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        vm.prank(who);
        s.referee.commitTrace(gameId, t.root(), t.acts[2], t.layerProof(2), r, rp);
    }

    function _reveal(uint256 gameId, address who, IntMlpFixture.Trace memory t) internal {
        Referee.Game memory g = s.referee.game(gameId);
        (bytes32 a, bytes32 b) = t.children(g.depth, g.index);
        vm.prank(who);
        s.referee.bisect(gameId, a, b);
    }
}
