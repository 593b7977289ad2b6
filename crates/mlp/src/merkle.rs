//! OpenZeppelin-compatible Merkle trees: sorted-pair hashing (`MerkleProof.verify`) and the
//! `StandardMerkleTree` array layout (leaves sorted ascending, stored at the end in reverse order).
//!
//! Used for the model weight commitment ([`crate::commit`]) and, by the keeper, for attestation
//! batches.

use alloy::primitives::{keccak256, B256};

/// `keccak256` of the sorted pair (OZ `Hashes.commutativeKeccak256`).
pub fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// Recomputes the root from a leaf and its proof (OZ `MerkleProof.processProof`).
pub fn process_proof(leaf: B256, proof: &[B256]) -> B256 {
    proof.iter().fold(leaf, |acc, p| hash_pair(acc, *p))
}

/// A complete Merkle tree in OZ array layout.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    tree: Vec<B256>,
    /// Leaf hashes in the order given to [`MerkleTree::new`].
    leaves: Vec<B256>,
}

/// Errors building or querying a tree.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MerkleError {
    /// A tree needs at least one leaf.
    #[error("a merkle tree needs at least one leaf")]
    Empty,
    /// The leaf is not in the tree.
    #[error("leaf {0} is not in the tree")]
    UnknownLeaf(B256),
}

impl MerkleTree {
    /// Builds the tree over already-hashed `leaves`.
    pub fn new(leaves: Vec<B256>) -> Result<Self, MerkleError> {
        if leaves.is_empty() {
            return Err(MerkleError::Empty);
        }
        let mut sorted = leaves.clone();
        sorted.sort();
        let n = sorted.len();
        let mut tree = vec![B256::ZERO; 2 * n - 1];
        for (i, l) in sorted.iter().enumerate() {
            tree[2 * n - 2 - i] = *l;
        }
        for i in (0..n - 1).rev() {
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2]);
        }
        Ok(Self { tree, leaves })
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether the tree has no leaves (never true for a built tree).
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The root.
    pub fn root(&self) -> B256 {
        self.tree[0]
    }

    /// The proof of `leaf` (sibling hashes from the leaf up).
    pub fn proof(&self, leaf: B256) -> Result<Vec<B256>, MerkleError> {
        let mut i = self
            .tree
            .iter()
            .rposition(|x| *x == leaf)
            .ok_or(MerkleError::UnknownLeaf(leaf))?;
        let n = self.leaves.len();
        if i < n - 1 {
            return Err(MerkleError::UnknownLeaf(leaf));
        }
        let mut proof = Vec::new();
        while i > 0 {
            let sibling = if i % 2 == 1 { i + 1 } else { i - 1 };
            proof.push(self.tree[sibling]);
            i = (i - 1) / 2;
        }
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<B256> {
        (0..n).map(|i| keccak256([i as u8])).collect()
    }

    #[test]
    fn single_leaf_root_is_leaf() {
        let l = leaves(1);
        let t = MerkleTree::new(l.clone()).unwrap();
        assert_eq!(t.root(), l[0]);
        assert!(t.proof(l[0]).unwrap().is_empty());
    }

    #[test]
    fn every_proof_verifies() {
        for n in 1..20 {
            let l = leaves(n);
            let t = MerkleTree::new(l.clone()).unwrap();
            for x in &l {
                assert_eq!(process_proof(*x, &t.proof(*x).unwrap()), t.root(), "n={n}");
            }
        }
    }

    #[test]
    fn two_leaves_root_is_sorted_pair() {
        let l = leaves(2);
        let t = MerkleTree::new(l.clone()).unwrap();
        assert_eq!(t.root(), hash_pair(l[0], l[1]));
        assert_eq!(t.root(), hash_pair(l[1], l[0]));
    }

    #[test]
    fn unknown_leaf_and_empty_are_errors() {
        assert_eq!(MerkleTree::new(vec![]).unwrap_err(), MerkleError::Empty);
        let t = MerkleTree::new(leaves(3)).unwrap();
        assert!(matches!(
            t.proof(B256::ZERO),
            Err(MerkleError::UnknownLeaf(_))
        ));
        // internal nodes are not leaves
        assert!(t.proof(t.root()).is_err());
    }
}
