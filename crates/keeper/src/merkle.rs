//! Attestation batches: OpenZeppelin `StandardMerkleTree` leaves over attestation results, in the
//! shared OZ-compatible tree of [`verinfer_mlp::merkle`].
//!
//! Leaf: `keccak256(bytes.concat(keccak256(abi.encode(operator, requestId, outputHash))))`.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol_types::SolValue;

pub use verinfer_mlp::merkle::{hash_pair, process_proof, MerkleError, MerkleTree};

/// The double-hashed leaf the registry recomputes.
pub fn leaf(operator: Address, request_id: U256, output_hash: B256) -> B256 {
    keccak256(keccak256((operator, request_id, output_hash).abi_encode()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every batch proof verifies against the root (the registry's `MerkleProof.verify`).
    #[test]
    fn every_batch_proof_verifies() {
        for n in 1..10 {
            let l: Vec<B256> = (0..n)
                .map(|i| leaf(Address::repeat_byte(1), U256::from(i), keccak256([i as u8])))
                .collect();
            let t = MerkleTree::new(l.clone()).unwrap();
            for x in &l {
                assert_eq!(process_proof(*x, &t.proof(*x).unwrap()), t.root(), "n={n}");
            }
        }
    }

    /// The leaf is the OZ StandardMerkleTree encoding of `(address, uint256, bytes32)`.
    #[test]
    fn leaf_encoding() {
        let op = Address::repeat_byte(0xab);
        let mut enc = vec![0u8; 12];
        enc.extend_from_slice(op.as_slice());
        enc.extend_from_slice(&U256::from(5u64).to_be_bytes::<32>());
        enc.extend_from_slice(B256::repeat_byte(3).as_slice());
        assert_eq!(
            leaf(op, U256::from(5u64), B256::repeat_byte(3)),
            keccak256(keccak256(enc))
        );
    }
}
