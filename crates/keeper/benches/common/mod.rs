//! Shared by the keeper's benches.

use alloy::primitives::{keccak256, Address, U256};
use verinfer_keeper::attest::Attestation;

/// Attestation `i` of operator `0x07..07`: output `(i + 1)` as 8 big-endian bytes, hashed.
pub fn att(i: u64) -> Attestation {
    Attestation {
        operator: Address::repeat_byte(7),
        requestId: U256::from(i),
        modelId: keccak256(b"m"),
        inputHash: keccak256(i.to_be_bytes()),
        outputHash: keccak256((i + 1).to_be_bytes()),
    }
}
