// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice The consumer side of `ChainlinkLikeRouter`.
interface IChainlinkLikeConsumer {
    function handleOracleFulfillment(bytes32 requestId, bytes calldata response, bytes calldata err) external;
}

/// @title ChainlinkLikeRouter
/// @notice A minimal router in the style of Chainlink Functions (`FunctionsRouter` + an OCR report), written from
///         the concept for a side-by-side gas comparison: a request stores a commitment hash and escrows the fee;
///         one transmission carries the response with k signatures of the oracle committee, checks them and the
///         commitment, deletes the commitment before calling back, and calls the consumer with exactly its gas
///         limit (63/64 respected), copying no return data. The transmitter is paid whatever the consumer does.
contract ChainlinkLikeRouter {
    struct Commitment {
        address consumer;
        uint32 callbackGasLimit;
        uint96 fee;
        bytes32 inputHash;
    }

    uint256 private constant GAS_FOR_CALL_EXACT_CHECK = 5000;

    IERC20 public immutable token;
    uint256 public immutable threshold;
    mapping(address signer => bool) public isSigner;
    uint256 public nonce;
    mapping(bytes32 requestId => bytes32) public commitments;
    mapping(address transmitter => uint256) public credits;

    error BadCommitment();
    error BadSignatures();
    error InsufficientGas();

    event RequestSent(bytes32 indexed requestId, address indexed consumer, Commitment commitment);
    event RequestProcessed(bytes32 indexed requestId, bool success);

    constructor(IERC20 token_, address[] memory signers, uint256 threshold_) {
        token = token_;
        threshold = threshold_;
        for (uint256 i; i < signers.length; ++i) {
            isSigner[signers[i]] = true;
        }
    }

    function sendRequest(address consumer, uint32 callbackGasLimit, uint96 fee, bytes32 inputHash)
        external
        returns (bytes32 requestId)
    {
        requestId = keccak256(abi.encode(address(this), ++nonce));
        Commitment memory c = Commitment(consumer, callbackGasLimit, fee, inputHash);
        commitments[requestId] = keccak256(abi.encode(c));
        token.transferFrom(msg.sender, address(this), fee);
        emit RequestSent(requestId, consumer, c);
    }

    function fulfill(
        bytes32 requestId,
        bytes calldata response,
        Commitment calldata c,
        bytes32[] calldata rs,
        bytes32[] calldata ss,
        uint8[] calldata vs
    ) external {
        if (commitments[requestId] != keccak256(abi.encode(c))) revert BadCommitment();
        _verifyReport(keccak256(abi.encode(requestId, keccak256(response))), rs, ss, vs);
        delete commitments[requestId];
        credits[msg.sender] += c.fee;
        bool ok = _callWithExactGas(
            c.consumer,
            c.callbackGasLimit,
            abi.encodeCall(IChainlinkLikeConsumer.handleOracleFulfillment, (requestId, response, bytes("")))
        );
        emit RequestProcessed(requestId, ok);
    }

    function _verifyReport(bytes32 report, bytes32[] calldata rs, bytes32[] calldata ss, uint8[] calldata vs)
        private
        view
    {
        if (rs.length < threshold) revert BadSignatures();
        address last;
        for (uint256 i; i < rs.length; ++i) {
            address signer = ECDSA.recover(report, vs[i], rs[i], ss[i]);
            if (!isSigner[signer] || signer <= last) revert BadSignatures();
            last = signer;
        }
    }

    function _callWithExactGas(address target, uint256 gasLimit, bytes memory data)
        private
        returns (bool ok)
    {
        bool enough;
        assembly ("memory-safe") {
            let g := gas()
            if gt(g, GAS_FOR_CALL_EXACT_CHECK) {
                g := sub(g, GAS_FOR_CALL_EXACT_CHECK)
                enough := gt(sub(g, div(g, 64)), gasLimit)
            }
            if and(enough, gt(extcodesize(target), 0)) {
                ok := call(gasLimit, target, 0, add(data, 0x20), mload(data), 0, 0)
            }
        }
        if (!enough) revert InsufficientGas();
    }
}
