// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IInferenceRegistry} from "../../contracts/interfaces/IInferenceRegistry.sol";
import {Referee} from "../../contracts/referee/Referee.sol";
import {IntMlpStep} from "../../contracts/referee/lib/IntMlpStep.sol";
import {IntMlpFixture} from "./IntMlpFixture.sol";
import {Test} from "forge-std/Test.sol";

/// @notice The registry surface the referee uses: one request, its answers, and the rulings it receives.
contract RefereeRegistryMock {
    IInferenceRegistry.RequestView internal _req;
    IInferenceRegistry.Model internal _model;
    address[] internal _ops;
    mapping(address => bytes32) internal _answers;
    Referee public referee;

    uint256 public rulings;
    uint256 public lastDispute;
    bytes32 public lastOutput;
    bool public lastDecided;

    function setReferee(Referee r) external {
        referee = r;
    }

    function setRequest(
        bytes32 modelId,
        bytes32 inputHash,
        bytes32 weightsRoot,
        bytes32 spec,
        bool optimistic
    ) external {
        _req.modelId = modelId;
        _req.inputHash = inputHash;
        _model.registered = true;
        _model.weightsHash = weightsRoot;
        _model.runtimeSpecHash = spec;
        _model.params.mode = optimistic
            ? IInferenceRegistry.VerificationMode.Optimistic
            : IInferenceRegistry.VerificationMode.Deterministic;
    }

    function answer(address op, bytes32 out) external {
        _ops.push(op);
        _answers[op] = out;
    }

    function open(uint256 requestId, bytes32 defended, bytes32 claimed, address challenger)
        external
        returns (uint256)
    {
        bytes32[] memory c = new bytes32[](2);
        c[0] = defended;
        c[1] = claimed;
        return referee.openDispute(requestId, c, _ops, challenger);
    }

    function request(uint256) external view returns (IInferenceRegistry.RequestView memory) {
        return _req;
    }

    function model(bytes32) external view returns (IInferenceRegistry.Model memory) {
        return _model;
    }

    function assignedOperators(uint256) external view returns (address[] memory) {
        return _ops;
    }

    function answerOf(uint256, address op) external view returns (bool, bytes32) {
        return (_answers[op] != bytes32(0), _answers[op]);
    }

    function onDisputeResolved(uint256 disputeId, bytes32 output, bool decided) external {
        require(msg.sender == address(referee), "not referee");
        ++rulings;
        lastDispute = disputeId;
        lastOutput = output;
        lastDecided = decided;
    }
}

/// @notice Operators' signers (none rotated: each signs for itself, except those set).
contract SignerMock {
    mapping(address => address) internal _signer;

    function setSigner(address op, address s) external {
        _signer[op] = s;
    }

    function signerOf(address op) external view returns (address) {
        address s = _signer[op];
        return s == address(0) ? op : s;
    }
}

/// @notice Identities (0 = none).
contract IdentityMock {
    mapping(address => uint256) public identityOf;

    function link(address a, uint256 id) external {
        identityOf[a] = id;
    }
}

/// @notice A game between an honest and a lying side over a generated model, played move by move.
abstract contract RefereeBase is Test {
    using IntMlpFixture for IntMlpFixture.Trace;

    uint256 internal constant WINDOW = 1 hours;
    uint256 internal constant REQUEST = 7;

    RefereeRegistryMock internal reg;
    SignerMock internal signers;
    IdentityMock internal ids;
    Referee internal referee;
    StepUser internal stepper;

    bytes32[] internal tree;
    bytes internal input;
    // Traces are kept as layer vectors (copied into memory per use).
    bytes[] internal honestActs;
    bytes[] internal liarActs;

    address internal defender = makeAddr("defender");
    address internal defender2 = makeAddr("defender2");
    address internal challenger = makeAddr("challenger");

    function _deploy() internal {
        reg = new RefereeRegistryMock();
        signers = new SignerMock();
        ids = new IdentityMock();
        referee = new Referee(address(reg), address(signers), address(ids), WINDOW);
        reg.setReferee(referee);
        stepper = new StepUser();
    }

    /// @notice The model under test, rebuilt in memory on each use (a 1024×1024 model does not fit in a
    ///         test's storage budget).
    function _model() internal view virtual returns (IntMlpFixture.Model memory);

    function _useModel(IntMlpFixture.Model memory model_, bytes memory input_) internal {
        tree = IntMlpFixture.weightsTree(model_);
        input = input_;
        IntMlpFixture.Trace memory t = IntMlpFixture.forward(model_, input_);
        delete honestActs;
        for (uint256 l; l < t.acts.length; ++l) {
            honestActs.push(t.acts[l]);
        }
        reg.setRequest(keccak256("model"), keccak256(input_), tree[0], IntMlpStep.RUNTIME_SPEC_HASH, false);
    }

    /// @notice The liar's trace: honest up to layer `layer`, element `element` set to `value`, later layers
    ///         recomputed from it (a consistent lie) unless `inconsistent`.
    ///         If the lie does not reach the output, the liar also changes the output's first element (a second,
    ///         later lie), so the two sides always claim different outputs.
    function _lie(uint256 layer, uint256 element, int8 value, bool inconsistent)
        internal
        returns (bool changed)
    {
        IntMlpFixture.Trace memory t = _trace(honestActs);
        IntMlpFixture.Trace memory l = t.copy();
        bytes memory v = l.acts[layer];
        v[element] = bytes1(uint8(value));
        if (!inconsistent) IntMlpFixture.propagate(_model(), l, layer);
        bytes memory out = l.acts[l.acts.length - 1];
        if (
            keccak256(out) == keccak256(t.acts[t.acts.length - 1])
                && !(layer == l.acts.length - 1 && element == 0)
        ) {
            out[0] = bytes1(uint8(out[0]) ^ 0x40);
        }
        delete liarActs;
        for (uint256 i; i < l.acts.length; ++i) {
            liarActs.push(l.acts[i]);
        }
        bytes memory last = l.acts[l.acts.length - 1];
        changed = keccak256(last) != keccak256(t.acts[t.acts.length - 1]);
    }

    function _trace(bytes[] storage acts) internal view returns (IntMlpFixture.Trace memory t) {
        t.acts = new bytes[](acts.length);
        for (uint256 i; i < acts.length; ++i) {
            t.acts[i] = acts[i];
        }
    }

    function _outHash(bytes[] storage acts) internal view returns (bytes32) {
        return keccak256(acts[acts.length - 1]);
    }

    /// @notice Opens a game; the liar defends when `liarDefends`.
    function _open(bool liarDefends) internal returns (uint256 gameId) {
        bytes32 h = _outHash(honestActs);
        bytes32 l = _outHash(liarActs);
        (bytes32 d, bytes32 c) = liarDefends ? (l, h) : (h, l);
        reg.answer(defender, d);
        reg.answer(defender2, d);
        gameId = reg.open(REQUEST, d, c, challenger);
    }

    function _commit(uint256 gameId, address who, bytes[] storage acts) internal {
        IntMlpFixture.Trace memory t = _trace(acts);
        uint256 last = acts.length - 1;
        IntMlpStep.Row memory r = IntMlpFixture.row(_model(), last, 0);
        bytes32[] memory rp = IntMlpFixture.rowProof(tree, IntMlpFixture.leafOf(r));
        vm.prank(who);
        referee.commitTrace(gameId, t.root(), acts[last], t.layerProof(last), r, rp);
    }

    function _reveal(uint256 gameId, address who, bytes[] storage acts) internal {
        Referee.Game memory g = referee.game(gameId);
        (bytes32 a, bytes32 b) = _trace(acts).children(g.depth, g.index);
        vm.prank(who);
        referee.bisect(gameId, a, b);
    }

    function _descend(uint256 gameId, bytes[] storage dActs, bytes[] storage cActs) internal {
        for (uint256 d; d < 17; ++d) {
            _reveal(gameId, defender, dActs);
            _reveal(gameId, challenger, cActs);
        }
    }

    function _stepProof(uint256 gameId) internal view returns (Referee.StepProof memory p) {
        Referee.Game memory g = referee.game(gameId);
        uint256 layer = g.index >> 11;
        uint256 chunk = g.index & 2047;
        uint256 b;
        while (g.node[0][b] == g.node[1][b]) ++b;
        p = IntMlpFixture.stepProof(_model(), tree, _trace(honestActs), input, layer, chunk * 32 + b);
    }

    /// @notice Plays a whole game with both sides moving; returns the game id.
    function _playFull(bool liarDefends) internal returns (uint256 gameId) {
        gameId = _open(liarDefends);
        (bytes[] storage dActs, bytes[] storage cActs) =
            liarDefends ? (liarActs, honestActs) : (honestActs, liarActs);
        _commit(gameId, defender, dActs);
        _commit(gameId, challenger, cActs);
        _descend(gameId, dActs, cActs);
        stepper.step(referee, gameId, _stepProof(gameId));
    }
}

/// @notice A third party running the one-step check (anyone may).
contract StepUser {
    function step(Referee referee, uint256 gameId, Referee.StepProof calldata p) external {
        referee.step(gameId, p);
    }
}
