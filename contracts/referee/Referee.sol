// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeReceiver, IDisputeResolver} from "../interfaces/IDisputes.sol";
import {IInferenceRegistry} from "../interfaces/IInferenceRegistry.sol";
import {IStaking} from "../interfaces/IStaking.sol";
import {IntMlpStep} from "./lib/IntMlpStep.sol";

/// @notice The identity lookup the referee needs (implemented by `IdentityRegistry`).
interface IIdentityLookup {
    /// @notice The identity `account` is linked to, or 0.
    /// @param account The account.
    /// @return The identity id.
    function identityOf(address account) external view returns (uint256);
}

/// @title Referee
/// @notice Settles wrong-result disputes over integer MLP models by computation (docs/referee.md): the two
///         sides commit execution traces, bisect to the first (layer, element) where they disagree, and the
///         chain recomputes that one element (`IntMlpStep`). A side that misses a move's deadline loses. The
///         ruling goes back to the registry (`IDisputeReceiver.onDisputeResolved`), which finalizes the
///         request with the winner's output and requests `WrongResult` slashes of the losers.
/// @dev The registry routes a dispute here when the model is `Deterministic`, its runtime spec is the
///      integer-MLP spec (`IntMlpStep.RUNTIME_SPEC_HASH`) and exactly two outputs are in contention; every
///      other dispute goes to the vote (`DisputeGovernor`). Game ids live above `GAME_ID_BASE` so they never
///      collide with the vote's dispute ids in the registry.
contract Referee is IDisputeResolver {
    /// @notice Where a game is.
    enum Phase {
        None,
        Commit, // both sides commit their trace roots
        Bisect, // descent from the trace roots to the first differing leaf, two moves per level
        Step, // the one-step check of the first differing element
        Done
    }

    /// @notice How a game ended.
    enum Outcome {
        None,
        DefenderWon,
        ChallengerWon,
        NoCommitment // neither side committed: no decision, the status quo stands
    }

    /// @notice A game. Side 0 defends `output[0]` (the registry's leading output), side 1 claims `output[1]`.
    struct Game {
        uint256 requestId;
        bytes32 weightsRoot;
        bytes32 inputHash;
        bytes32[2] output;
        bytes32[2] root; // committed trace roots (zero until committed)
        bytes32[2] node; // each side's node at the current position of the descent
        bytes32 pendingLeft; // the defender's revealed children at the current level
        bytes32 pendingRight;
        address challenger; // the bonded challenger (side 1), or zero when side 1 is a set of operators
        uint8[2] mask; // bit i: assigned operator i answered this side's output
        Phase phase;
        Outcome outcome;
        bool challengerToMove;
        uint8 depth; // levels descended, 0..GAME_DEPTH
        uint16 layerCount;
        uint32 index; // position at `depth`
        uint40 deadline;
    }

    /// @notice The data of the one-step check (see `step`).
    struct StepProof {
        IntMlpStep.Row row; // the element's weight row (any row of the layer past its width)
        bytes32[] rowProof; // the row's proof against the model's weights root
        bytes input; // the layer's input: the request input (layer 0), else the previous layer's output
        bytes32[] inputProof; // layer > 0: the TRACE_DEPTH siblings of leaf `layer - 1` in either side's trace
    }

    /// @notice First game id (ids are `GAME_ID_BASE + n`, n ≥ 1).
    uint256 public constant GAME_ID_BASE = 2 ** 255;
    /// @notice Levels of the game's tree: trace (6) over layer (11).
    uint256 public constant GAME_DEPTH = IntMlpStep.TRACE_DEPTH + IntMlpStep.LAYER_DEPTH;
    /// @notice Moves (deadlines) in the longest game: the commit, two per level, the one-step check.
    uint256 public constant MAX_MOVES = 2 * GAME_DEPTH + 2;
    /// @dev Position of a leaf within its layer: the low `LAYER_DEPTH` bits of the leaf index.
    uint256 private constant CHUNK_MASK = 2 ** IntMlpStep.LAYER_DEPTH - 1;
    /// @notice Bounds of `moveWindow` (seconds).
    uint256 public constant MIN_MOVE_WINDOW = 5 minutes;
    /// @notice Upper bound of `moveWindow` (seconds).
    uint256 public constant MAX_MOVE_WINDOW = 1 days;

    /// @notice The inference registry (the only caller of `openDispute`, the receiver of rulings).
    IInferenceRegistry public immutable registry;
    /// @notice Staking (operators' current signers may move for them).
    IStaking public immutable staking;
    /// @notice Identity registry (a challenger may not share an identity with a defender), or zero.
    IIdentityLookup public immutable identities;
    /// @notice Seconds each move may take.
    uint256 public immutable moveWindow;

    /// @notice Games opened so far.
    uint256 public gameCount;
    mapping(uint256 gameId => Game) private _games;
    /// @notice The game of a request, or 0.
    mapping(uint256 requestId => uint256 gameId) public gameOf;

    /// @notice A game was opened over `requestId`.
    event GameOpened(
        uint256 indexed gameId,
        uint256 indexed requestId,
        bytes32 defenderOutput,
        bytes32 challengerOutput,
        address challenger,
        uint40 deadline
    );
    /// @notice `side` committed its trace root.
    event TraceCommitted(uint256 indexed gameId, uint8 side, address mover, bytes32 root);
    /// @notice `side` revealed the two children of its node at (`depth`, `index`).
    event Bisected(
        uint256 indexed gameId,
        uint8 side,
        uint8 depth,
        uint32 index,
        bytes32 left,
        bytes32 right,
        uint40 deadline
    );
    /// @notice The descent reached a leaf: (layer, chunk) of the first disagreement.
    event StepDue(uint256 indexed gameId, uint256 layer, uint256 chunk, uint40 deadline);
    /// @notice The one-step check ran: element `element` of layer `layer` is `truth`.
    event StepChecked(
        uint256 indexed gameId,
        uint256 layer,
        uint256 element,
        int8 truth,
        int8 defenderValue,
        int8 challengerValue
    );
    /// @notice The game ended; `output` is the ruling sent to the registry.
    event GameEnded(uint256 indexed gameId, Outcome outcome, bytes32 output);

    /// @notice The caller is not the registry.
    error UnauthorizedCaller(address caller);
    /// @notice A zero address where one is required.
    error ZeroAddress();
    /// @notice `moveWindow` outside [MIN_MOVE_WINDOW, MAX_MOVE_WINDOW].
    error MoveWindowOutOfBounds(uint256 window);
    /// @notice The model is not an integer MLP in Deterministic mode.
    error IneligibleModel(bytes32 modelId);
    /// @notice The referee plays exactly two outputs against each other.
    error NotTwoCandidates(uint256 count);
    /// @notice The request already has a game.
    error GameAlreadyOpen(uint256 requestId, uint256 gameId);
    /// @notice The challenger is (the signer of, or shares an identity with) an operator of the defending side.
    error SameParty(address challenger, address operator);
    /// @notice No such game.
    error UnknownGame(uint256 gameId);
    /// @notice The game is not in the phase this move belongs to.
    error WrongPhase(uint256 gameId, Phase phase);
    /// @notice The move's deadline has passed (call `timeout`).
    error MoveAfterDeadline(uint256 gameId, uint40 deadline);
    /// @notice The deadline has not passed yet.
    error DeadlineNotPassed(uint256 gameId, uint40 deadline);
    /// @notice The caller plays neither side.
    error NotAParty(uint256 gameId, address caller);
    /// @notice It is the other side's move.
    error NotYourTurn(uint256 gameId, address caller);
    /// @notice The side already committed its trace.
    error AlreadyCommitted(uint256 gameId, uint8 side);
    /// @notice The output bytes do not hash to the side's output.
    error OutputMismatch(bytes32 expected, bytes32 got);
    /// @notice The input bytes do not hash to the request's `inputHash`.
    error InputMismatch(bytes32 expected, bytes32 got);
    /// @notice A weight row that does not verify against the model's weights root.
    error InvalidRowProof();
    /// @notice A proven row that is not the one the check needs.
    error WrongRow(uint256 layer, uint256 row);
    /// @notice A trace proof that does not verify against the trace root.
    error InvalidTraceProof();
    /// @notice Revealed children that do not hash to the side's node.
    error InvalidReveal(bytes32 node);

    /// @param registry_ The inference registry.
    /// @param staking_ Staking.
    /// @param identities_ The identity registry, or zero (no identity check).
    /// @param moveWindow_ Seconds per move, [MIN_MOVE_WINDOW, MAX_MOVE_WINDOW].
    constructor(address registry_, address staking_, address identities_, uint256 moveWindow_) {
        if (registry_ == address(0) || staking_ == address(0)) revert ZeroAddress();
        if (moveWindow_ < MIN_MOVE_WINDOW || moveWindow_ > MAX_MOVE_WINDOW) {
            revert MoveWindowOutOfBounds(moveWindow_);
        }
        registry = IInferenceRegistry(registry_);
        staking = IStaking(staking_);
        identities = IIdentityLookup(identities_);
        moveWindow = moveWindow_;
    }

    // ------------------------------------------------------------------ IDisputeResolver

    /// @inheritdoc IDisputeResolver
    /// @dev Side 0 defends `candidates[0]` (the leading output), side 1 is `challenger` (or, when zero, the
    ///      operators that answered `candidates[1]`). Reverts on an ineligible model, not two candidates, a
    ///      second game on the request, or a challenger who is a defender.
    function openDispute(
        uint256 requestId,
        bytes32[] calldata candidates,
        address[] calldata,
        address challenger
    ) external returns (uint256 gameId) {
        if (msg.sender != address(registry)) revert UnauthorizedCaller(msg.sender);
        if (candidates.length != 2) revert NotTwoCandidates(candidates.length);
        uint256 existing = gameOf[requestId];
        if (existing != 0) revert GameAlreadyOpen(requestId, existing);
        IInferenceRegistry.RequestView memory rv = registry.request(requestId);
        IInferenceRegistry.Model memory m = registry.model(rv.modelId);
        if (
            m.params.mode != IInferenceRegistry.VerificationMode.Deterministic
                || m.runtimeSpecHash != IntMlpStep.RUNTIME_SPEC_HASH
        ) revert IneligibleModel(rv.modelId);

        uint8[2] memory mask = _sides(requestId, candidates[0], candidates[1], challenger);

        gameId = GAME_ID_BASE + ++gameCount;
        gameOf[requestId] = gameId;
        Game storage g = _games[gameId];
        g.requestId = requestId;
        g.weightsRoot = m.weightsHash;
        g.inputHash = rv.inputHash;
        g.output[0] = candidates[0];
        g.output[1] = candidates[1];
        g.challenger = challenger;
        g.mask = mask;
        g.phase = Phase.Commit;
        uint40 deadline = _nextDeadline();
        g.deadline = deadline;
        emit GameOpened(gameId, requestId, candidates[0], candidates[1], challenger, deadline);
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Each of the `MAX_MOVES` moves may take `moveWindow`; `timeout` ends the game one second after the
    ///      last deadline.
    function maxRulingDelay() external view returns (uint256) {
        return MAX_MOVES * moveWindow + 1;
    }

    // ------------------------------------------------------------------ moves

    /// @notice Commits the caller's side's trace root, proving that its last layer is the side's output.
    /// @param gameId The game.
    /// @param traceRoot The trace root (see `IntMlpStep`).
    /// @param output The side's output bytes (hash = the side's output hash).
    /// @param lastLayerProof The `TRACE_DEPTH` siblings of leaf `layerCount − 1` (the output's vector root).
    /// @param lastRow Any row of the model's last layer (gives the layer count and the output width).
    /// @param rowProof Its proof against the model's weights root.
    function commitTrace(
        uint256 gameId,
        bytes32 traceRoot,
        bytes calldata output,
        bytes32[] calldata lastLayerProof,
        IntMlpStep.Row calldata lastRow,
        bytes32[] calldata rowProof
    ) external {
        Game storage g = _live(gameId, Phase.Commit);
        uint8 side = _sideOf(g, gameId, msg.sender);
        if (g.root[side] != bytes32(0)) revert AlreadyCommitted(gameId, side);
        bytes32 outHash = keccak256(output);
        if (outHash != g.output[side]) revert OutputMismatch(g.output[side], outHash);
        if (!IntMlpStep.verifyRow(lastRow, rowProof, g.weightsRoot)) revert InvalidRowProof();
        if (uint256(lastRow.layer) + 1 != lastRow.layerCount || lastRow.layerCount > IntMlpStep.MAX_LAYERS) {
            revert WrongRow(lastRow.layer, lastRow.row);
        }
        if (output.length != lastRow.outputs) {
            revert IntMlpStep.WrongInputWidth(output.length, lastRow.outputs);
        }
        if (lastLayerProof.length != IntMlpStep.TRACE_DEPTH) {
            revert IntMlpStep.WrongProofLength(lastLayerProof.length, IntMlpStep.TRACE_DEPTH);
        }
        bytes32 reached = IntMlpStep.rootFrom(IntMlpStep.vectorRoot(output), lastRow.layer, lastLayerProof);
        if (traceRoot == bytes32(0) || reached != traceRoot) revert InvalidTraceProof();

        g.root[side] = traceRoot;
        g.layerCount = lastRow.layerCount;
        emit TraceCommitted(gameId, side, msg.sender, traceRoot);
        if (g.root[1 - side] != bytes32(0)) {
            // Both committed. Different outputs make different last layers, hence different roots.
            g.node[0] = g.root[0];
            g.node[1] = g.root[1];
            g.phase = Phase.Bisect;
            g.deadline = _nextDeadline();
        }
    }

    /// @notice Reveals the two children of the caller's side's node at the current level. The defender
    ///         moves first, then the challenger; the descent then follows the left child if the sides' left
    ///         children differ, else the right one (so it ends at the first differing leaf).
    /// @param gameId The game.
    /// @param left The left child.
    /// @param right The right child.
    function bisect(uint256 gameId, bytes32 left, bytes32 right) external {
        Game storage g = _live(gameId, Phase.Bisect);
        uint8 side = _sideOf(g, gameId, msg.sender);
        if ((side == 1) != g.challengerToMove) revert NotYourTurn(gameId, msg.sender);
        bytes32 node = g.node[side];
        if (IntMlpStep.hashPair(left, right) != node) revert InvalidReveal(node);
        uint40 deadline = _nextDeadline();
        emit Bisected(gameId, side, g.depth, g.index, left, right, deadline);
        g.deadline = deadline;
        if (side == 0) {
            g.pendingLeft = left;
            g.pendingRight = right;
            g.challengerToMove = true;
            return;
        }
        bool goLeft = g.pendingLeft != left;
        g.node[0] = goLeft ? g.pendingLeft : g.pendingRight;
        g.node[1] = goLeft ? left : right;
        g.index = g.index * 2 + (goLeft ? 0 : 1);
        g.challengerToMove = false;
        uint8 depth = g.depth + 1;
        g.depth = depth;
        if (depth == GAME_DEPTH) {
            g.phase = Phase.Step;
            emit StepDue(gameId, g.index >> IntMlpStep.LAYER_DEPTH, g.index & (CHUNK_MASK), deadline);
        }
    }

    /// @notice The one-step check: recomputes the first element where the sides' leaves differ and ends the
    ///         game. Anyone may call it (the data is public to whoever has the model and the input); if nobody
    ///         does by the deadline, the defender loses (it bears the burden of proving its value).
    /// @param gameId The game.
    /// @param p The element's weight row and its proof, the layer's input and its proof (`StepProof`; all
    ///        ignored past the last layer, whose elements are zero padding).
    function step(uint256 gameId, StepProof calldata p) external {
        Game storage g = _live(gameId, Phase.Step);
        uint256 layer = g.index >> IntMlpStep.LAYER_DEPTH;
        (uint256 element, int8 dv, int8 cv) = _firstDifference(g);
        // Past the last layer the committed vectors are zero padding.
        int8 truth = layer < g.layerCount ? _recompute(g, layer, element, p) : int8(0);
        emit StepChecked(gameId, layer, element, truth, dv, cv);
        _end(gameId, g, dv == truth ? Outcome.DefenderWon : Outcome.ChallengerWon);
    }

    /// @notice Ends a game whose current move's deadline passed: the side that had to move loses; in the
    ///         commit phase a side that committed wins over one that did not (neither: no decision).
    /// @param gameId The game.
    function timeout(uint256 gameId) external {
        Game storage g = _games[gameId];
        Phase phase = g.phase;
        if (phase == Phase.None) revert UnknownGame(gameId);
        if (phase == Phase.Done) revert WrongPhase(gameId, phase);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= g.deadline) revert DeadlineNotPassed(gameId, g.deadline);
        Outcome outcome;
        if (phase == Phase.Commit) {
            bool d = g.root[0] != bytes32(0);
            bool c = g.root[1] != bytes32(0);
            outcome = d ? Outcome.DefenderWon : (c ? Outcome.ChallengerWon : Outcome.NoCommitment);
        } else if (phase == Phase.Bisect) {
            outcome = g.challengerToMove ? Outcome.DefenderWon : Outcome.ChallengerWon;
        } else {
            outcome = Outcome.ChallengerWon;
        }
        _end(gameId, g, outcome);
    }

    // ------------------------------------------------------------------ views

    /// @notice A game.
    /// @param gameId The game.
    /// @return The game record.
    function game(uint256 gameId) external view returns (Game memory) {
        return _games[gameId];
    }

    // ------------------------------------------------------------------ internals

    function _live(uint256 gameId, Phase phase) private view returns (Game storage g) {
        g = _games[gameId];
        if (g.phase == Phase.None) revert UnknownGame(gameId);
        if (g.phase != phase) revert WrongPhase(gameId, g.phase);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > g.deadline) revert MoveAfterDeadline(gameId, g.deadline);
    }

    function _nextDeadline() private view returns (uint40) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint40(block.timestamp + moveWindow); // moveWindow <= 1 day
    }

    /// @dev The side `who` plays: the challenger, or an operator (its owner or current signer) whose answer is
    ///      the side's output.
    function _sideOf(Game storage g, uint256 gameId, address who) private view returns (uint8) {
        address challenger = g.challenger;
        if (challenger != address(0) && who == challenger) return 1;
        uint8[2] memory mask = g.mask;
        address[] memory ops = registry.assignedOperators(g.requestId);
        for (uint256 i; i < ops.length; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 bit = uint8(2 ** i);
            uint8 side = mask[0] & bit != 0 ? 0 : (mask[1] & bit != 0 ? 1 : 2);
            if (side == 2) continue;
            if (who == ops[i] || who == staking.signerOf(ops[i])) return side;
        }
        revert NotAParty(gameId, who);
    }

    /// @dev Each side's operators (bit i: assigned operator i answered the side's output); side 1 has none when
    ///      a bonded challenger plays it. Checks that the challenger is none of the defenders.
    function _sides(uint256 requestId, bytes32 defended, bytes32 claimed, address challenger)
        private
        view
        returns (uint8[2] memory mask)
    {
        address[] memory ops = registry.assignedOperators(requestId);
        for (uint256 i; i < ops.length; ++i) {
            (bool answered, bytes32 out) = registry.answerOf(requestId, ops[i]);
            if (!answered) continue;
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 bit = uint8(2 ** i); // i < 8 (k <= 8)
            if (out == defended) {
                mask[0] |= bit;
                if (challenger != address(0)) _checkNotSameParty(challenger, ops[i]);
            } else if (out == claimed && challenger == address(0)) {
                mask[1] |= bit;
            }
        }
    }

    function _checkNotSameParty(address challenger, address operator) private view {
        if (challenger == operator || challenger == staking.signerOf(operator)) {
            revert SameParty(challenger, operator);
        }
        IIdentityLookup ids = identities;
        if (address(ids) == address(0)) return;
        uint256 id = ids.identityOf(challenger);
        if (id != 0 && id == ids.identityOf(operator)) revert SameParty(challenger, operator);
    }

    /// @dev The first byte where the sides' leaves (32-byte chunks) differ: its element index and both values.
    function _firstDifference(Game storage g) private view returns (uint256 element, int8 dv, int8 cv) {
        bytes32 d = g.node[0];
        bytes32 c = g.node[1];
        uint256 b;
        while (d[b] == c[b]) ++b; // the leaves differ (the descent keeps the sides' nodes different)
        element = (uint256(g.index) & (CHUNK_MASK)) * IntMlpStep.CHUNK + b;
        dv = int8(uint8(d[b]));
        cv = int8(uint8(c[b]));
    }

    /// @dev The true value of `element` of `layer` (< layerCount), from proven data.
    function _recompute(Game storage g, uint256 layer, uint256 element, StepProof calldata p)
        private
        view
        returns (int8)
    {
        IntMlpStep.Row calldata row = p.row;
        if (!IntMlpStep.verifyRow(row, p.rowProof, g.weightsRoot)) revert InvalidRowProof();
        if (row.layer != layer) revert WrongRow(row.layer, row.row);
        // Past the layer's width the committed vector is zero padding.
        if (element >= row.outputs) return 0;
        if (row.row != element) revert WrongRow(row.layer, row.row);
        if (layer == 0) {
            bytes32 h = keccak256(p.input);
            if (h != g.inputHash) revert InputMismatch(g.inputHash, h);
        } else {
            if (p.inputProof.length != IntMlpStep.TRACE_DEPTH) {
                revert IntMlpStep.WrongProofLength(p.inputProof.length, IntMlpStep.TRACE_DEPTH);
            }
            // Every leaf left of the disagreement is the same in both traces, so a proof against either root
            // proves the agreed layer (each side can prove it against its own trace).
            bytes32 reached = IntMlpStep.rootFrom(IntMlpStep.vectorRoot(p.input), layer - 1, p.inputProof);
            if (reached != g.root[0] && reached != g.root[1]) revert InvalidTraceProof();
        }
        return IntMlpStep.neuron(row, p.input);
    }

    /// @dev Records the outcome and sends the ruling to the registry (winner's output; no decision when
    ///      neither side committed).
    function _end(uint256 gameId, Game storage g, Outcome outcome) private {
        g.phase = Phase.Done;
        g.outcome = outcome;
        bytes32 output = outcome == Outcome.DefenderWon
            ? g.output[0]
            : (outcome == Outcome.ChallengerWon ? g.output[1] : bytes32(0));
        emit GameEnded(gameId, outcome, output);
        IDisputeReceiver(address(registry)).onDisputeResolved(gameId, output, outcome != Outcome.NoCommitment);
    }
}
