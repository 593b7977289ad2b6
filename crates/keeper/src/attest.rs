//! EIP-712 attestations: the fixed `Attestation` type, its domain, signing with the operator's hot
//! key and recovery.
//!
//! Domain: name `"verinfer"`, version `"1"`, the chain id and the InferenceRegistry address; type
//! `Attestation(address operator,uint256 requestId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash)`.

use std::fmt;
use std::path::Path;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::{Signature, SignerSync};
use alloy::sol_types::{Eip712Domain, SolStruct};

alloy::sol! {
    /// The attestation an operator's hot key signs (identical to `IInferenceRegistry.Attestation`).
    #[derive(Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
    struct Attestation {
        address operator;
        uint256 requestId;
        bytes32 modelId;
        bytes32 inputHash;
        bytes32 outputHash;
    }
}

impl From<Attestation> for crate::registry::Attestation {
    fn from(a: Attestation) -> Self {
        Self {
            operator: a.operator,
            requestId: a.requestId,
            modelId: a.modelId,
            inputHash: a.inputHash,
            outputHash: a.outputHash,
        }
    }
}

/// The canonical EIP-712 type string of [`Attestation`].
pub const ATTESTATION_TYPE: &str =
    "Attestation(address operator,uint256 requestId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash)";

/// Errors loading or using the hot key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The hex private key could not be parsed (the key itself is never echoed).
    #[error("invalid private key in {source_name}: not a 32-byte hex secp256k1 scalar")]
    InvalidKey {
        /// Where the key came from (env var name or "config").
        source_name: String,
    },
    /// The keystore could not be read or decrypted.
    #[error("cannot decrypt keystore {path}: {reason}")]
    Keystore {
        /// Keystore path.
        path: String,
        /// Reason reported by the keystore library.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The EIP-712 domain of the registry at `registry` on `chain_id`.
pub fn domain(chain_id: u64, registry: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some("verinfer".into()),
        Some("1".into()),
        Some(U256::from(chain_id)),
        Some(registry),
        None,
    )
}

/// The identity of a request as far as an attestation is concerned:
/// `keccak256(abi.encode(requestId, modelId, inputHash))`. Request ids come from a counter, so after
/// a reorg removes a `RequestCreated` the next request reuses the id; an attestation signed for the
/// old request binds its model and input, and the registry refuses it for any other
/// (`AttestationMismatch`). The keeper keys its journal by this digest, not by the id alone
/// (docs/keeper.md, "Reorgs").
pub fn request_digest(request_id: U256, model_id: B256, input_hash: B256) -> B256 {
    use alloy::sol_types::SolValue;
    alloy::primitives::keccak256((request_id, model_id, input_hash).abi_encode())
}

/// The digest the registry's `attestationDigest(att)` computes.
pub fn digest(att: &Attestation, domain: &Eip712Domain) -> B256 {
    att.eip712_signing_hash(domain)
}

/// The operator's hot signing key. `Debug` shows only the address; the secret never leaves this type
/// except as signatures.
#[derive(Clone)]
pub struct HotKey {
    signer: PrivateKeySigner,
}

impl fmt::Debug for HotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotKey")
            .field("address", &self.signer.address())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl HotKey {
    /// Wraps an existing signer.
    pub fn new(signer: PrivateKeySigner) -> Self {
        Self { signer }
    }

    /// Parses a hex private key (with or without `0x`). `source_name` names where it came from for
    /// error messages; the key itself is never included in errors or logs.
    pub fn from_hex(hex_key: &str, source_name: &str) -> Result<Self, KeyError> {
        hex_key
            .trim()
            .parse::<PrivateKeySigner>()
            .map(Self::new)
            .map_err(|_| KeyError::InvalidKey {
                source_name: source_name.to_string(),
            })
    }

    /// Decrypts a Web3 secret-storage (eth-keystore) JSON file.
    pub fn from_keystore(path: &Path, password: &str) -> Result<Self, KeyError> {
        PrivateKeySigner::decrypt_keystore(path, password)
            .map(Self::new)
            .map_err(|e| KeyError::Keystore {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
    }

    /// The signer's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The underlying alloy signer (for transaction signing).
    pub fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// Signs `att` under `domain`; returns the 65-byte `(r, s, v)` signature with `v ∈ {27, 28}` as
    /// OpenZeppelin's ECDSA expects.
    pub fn sign_attestation(
        &self,
        att: &Attestation,
        domain: &Eip712Domain,
    ) -> Result<[u8; 65], KeyError> {
        let hash = digest(att, domain);
        let sig = self
            .signer
            .sign_hash_sync(&hash)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        Ok(sig.as_bytes())
    }
}

/// Recovers the signer of a 65-byte attestation signature, or `None` if it is malformed.
pub fn recover(att: &Attestation, domain: &Eip712Domain, sig: &[u8]) -> Option<Address> {
    let sig = Signature::try_from(sig).ok()?;
    sig.recover_address_from_prehash(&digest(att, domain)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, keccak256};
    use alloy::sol_types::SolValue;

    fn sample() -> Attestation {
        Attestation {
            operator: address!("0x00000000000000000000000000000000000000aa"),
            requestId: U256::from(7u64),
            modelId: b256!("0x1111111111111111111111111111111111111111111111111111111111111111"),
            inputHash: b256!("0x2222222222222222222222222222222222222222222222222222222222222222"),
            outputHash: b256!("0x3333333333333333333333333333333333333333333333333333333333333333"),
        }
    }

    /// Computes the digest exactly as Solidity does, independently of alloy's SolStruct machinery:
    /// `keccak256("\x19\x01" || domainSeparator || keccak256(abi.encode(TYPEHASH, att...)))`.
    #[test]
    fn digest_matches_solidity_computation() {
        let registry = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        let chain_id = 31337u64;
        let att = sample();
        let type_hash = keccak256(ATTESTATION_TYPE.as_bytes());
        assert_eq!(type_hash, att.eip712_type_hash());
        let struct_hash = keccak256(
            (
                type_hash,
                att.operator,
                att.requestId,
                att.modelId,
                att.inputHash,
                att.outputHash,
            )
                .abi_encode(),
        );
        let domain_type = keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                .as_bytes(),
        );
        let separator = keccak256(
            (
                domain_type,
                keccak256("verinfer"),
                keccak256("1"),
                U256::from(chain_id),
                registry,
            )
                .abi_encode(),
        );
        let mut buf = vec![0x19u8, 0x01];
        buf.extend_from_slice(separator.as_slice());
        buf.extend_from_slice(struct_hash.as_slice());
        let expected = keccak256(buf);
        assert_eq!(digest(&att, &domain(chain_id, registry)), expected);
    }

    /// The keeper signs its own [`Attestation`] but submits the generated bindings' struct: both must
    /// have the same EIP-712 type and hash, or the registry would recover a different signer.
    #[test]
    fn generated_binding_struct_has_the_same_eip712_hash() {
        let d = domain(
            31337,
            address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
        );
        let ours = sample();
        let theirs: crate::registry::Attestation = ours.clone().into();
        assert_eq!(
            crate::registry::Attestation::eip712_encode_type(),
            ATTESTATION_TYPE
        );
        assert_eq!(theirs.eip712_signing_hash(&d), digest(&ours, &d));
        let mut changed = theirs;
        changed.outputHash = B256::ZERO;
        assert_ne!(changed.eip712_signing_hash(&d), digest(&ours, &d));
    }

    #[test]
    fn signature_round_trips_and_has_electrum_v() {
        let key = HotKey::new(PrivateKeySigner::random());
        let d = domain(1, Address::repeat_byte(9));
        let sig = key.sign_attestation(&sample(), &d).unwrap();
        assert!(sig[64] == 27 || sig[64] == 28);
        assert_eq!(recover(&sample(), &d, &sig), Some(key.address()));
        let mut other = sample();
        other.outputHash = B256::ZERO;
        assert_ne!(recover(&other, &d, &sig), Some(key.address()));
    }

    #[test]
    fn debug_redacts_secret() {
        let hex = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let key = HotKey::from_hex(hex, "test").unwrap();
        let dbg = format!("{key:?}");
        assert!(!dbg.contains("59c6995e"), "{dbg}");
        assert!(dbg.contains("redacted"));
    }

    #[test]
    fn bad_key_error_does_not_echo_key() {
        let err = HotKey::from_hex("0xdeadbeefnothex", "VERINFER_OPERATOR_KEY").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("VERINFER_OPERATOR_KEY"));
        assert!(!msg.contains("deadbeef"));
    }

    #[test]
    fn keystore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand_core_rng();
        let (signer, _uuid) =
            PrivateKeySigner::new_keystore(dir.path(), &mut rng, "pw", Some("op.json")).unwrap();
        let key = HotKey::from_keystore(&dir.path().join("op.json"), "pw").unwrap();
        assert_eq!(key.address(), signer.address());
        let err = HotKey::from_keystore(&dir.path().join("op.json"), "wrong").unwrap_err();
        assert!(err.to_string().contains("cannot decrypt keystore"));
    }

    fn rand_core_rng() -> impl alloy::signers::k256::elliptic_curve::rand_core::CryptoRngCore {
        alloy::signers::k256::elliptic_curve::rand_core::OsRng
    }
}
