// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title EasLikeBaseline
/// @notice A minimal attestation service in the style of the Ethereum Attestation Service, written from the
///         concept for a side-by-side gas comparison: a schema registry, and attestations stored as a full
///         record (uid, schema, time, expiration, revocation, refUID, recipient, attester, revocable, data),
///         created directly or by EIP-712 delegation (signed by the attester, relayed by anyone).
contract EasLikeBaseline is EIP712 {
    struct SchemaRecord {
        bytes32 uid;
        address resolver;
        bool revocable;
        string schema;
    }

    struct Attestation {
        bytes32 uid;
        bytes32 schema;
        uint64 time;
        uint64 expirationTime;
        uint64 revocationTime;
        bytes32 refUID;
        address recipient;
        address attester;
        bool revocable;
        bytes data;
    }

    struct AttestationData {
        address recipient;
        uint64 expirationTime;
        bool revocable;
        bytes32 refUID;
        bytes data;
    }

    bytes32 public constant ATTEST_TYPEHASH = keccak256(
        "Attest(address attester,bytes32 schema,address recipient,uint64 expirationTime,bool revocable,bytes32 refUID,bytes data,uint256 nonce)"
    );

    mapping(bytes32 uid => SchemaRecord) internal _schemas;
    mapping(bytes32 uid => Attestation) internal _attestations;
    mapping(address attester => uint256) public nonces;

    event SchemaRegistered(bytes32 indexed uid, address indexed registerer);
    event Attested(
        address indexed recipient, address indexed attester, bytes32 uid, bytes32 indexed schemaUID
    );

    error SchemaExists(bytes32 uid);
    error UnknownSchema(bytes32 uid);
    error AttestationExists(bytes32 uid);
    error BadSignature();

    constructor() EIP712("EasLike", "1") {}

    /// @notice Registers a schema string.
    function registerSchema(string calldata schema, address resolver, bool revocable)
        external
        returns (bytes32 uid)
    {
        uid = keccak256(abi.encodePacked(schema, resolver, revocable));
        if (_schemas[uid].uid != bytes32(0)) revert SchemaExists(uid);
        _schemas[uid] = SchemaRecord({uid: uid, resolver: resolver, revocable: revocable, schema: schema});
        emit SchemaRegistered(uid, msg.sender);
    }

    /// @notice Attests as `msg.sender`.
    function attest(bytes32 schema, AttestationData calldata d) external returns (bytes32) {
        return _attest(schema, d, msg.sender);
    }

    /// @notice Attests on behalf of `attester`, who signed the EIP-712 `Attest` message.
    function attestByDelegation(
        bytes32 schema,
        AttestationData calldata d,
        address attester,
        bytes calldata sig
    ) external returns (bytes32) {
        uint256 nonce = nonces[attester]++;
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTEST_TYPEHASH,
                    attester,
                    schema,
                    d.recipient,
                    d.expirationTime,
                    d.revocable,
                    d.refUID,
                    keccak256(d.data),
                    nonce
                )
            )
        );
        if (ECDSA.recover(digest, sig) != attester) revert BadSignature();
        return _attest(schema, d, attester);
    }

    /// @notice The EIP-712 digest `attester` signs for its next delegated attestation.
    function attestDigest(bytes32 schema, AttestationData calldata d, address attester)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTEST_TYPEHASH,
                    attester,
                    schema,
                    d.recipient,
                    d.expirationTime,
                    d.revocable,
                    d.refUID,
                    keccak256(d.data),
                    nonces[attester]
                )
            )
        );
    }

    /// @notice A stored attestation.
    function getAttestation(bytes32 uid) external view returns (Attestation memory) {
        return _attestations[uid];
    }

    function _attest(bytes32 schema, AttestationData calldata d, address attester)
        private
        returns (bytes32 uid)
    {
        if (_schemas[schema].uid == bytes32(0)) revert UnknownSchema(schema);
        uid = keccak256(
            abi.encodePacked(
                schema,
                d.recipient,
                attester,
                uint64(block.timestamp),
                d.expirationTime,
                d.revocable,
                d.refUID,
                d.data
            )
        );
        Attestation storage a = _attestations[uid];
        if (a.uid != bytes32(0)) revert AttestationExists(uid);
        a.uid = uid;
        a.schema = schema;
        a.time = uint64(block.timestamp);
        a.expirationTime = d.expirationTime;
        a.refUID = d.refUID;
        a.recipient = d.recipient;
        a.attester = attester;
        a.revocable = d.revocable;
        a.data = d.data;
        emit Attested(d.recipient, attester, uid, schema);
    }
}
