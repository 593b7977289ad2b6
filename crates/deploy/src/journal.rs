//! The resume journal `deployments/<chainId>.partial.json`: which plan is being deployed (its hash,
//! parameters and start nonce) and, per step sent so far, its transaction and the block it landed in.
//! The executor writes it before waiting for each step and removes it once the manifest is written, so
//! a deploy that fails or is killed at step N continues from there when run again (as
//! `forge script --resume` does).

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use serde::{Deserialize, Serialize};

use crate::plan::DeployParams;

/// The journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// I/O on the journal file.
    #[error("{path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a journal.
    #[error("{path}: not a deployment journal: {source}")]
    Invalid {
        /// The journal file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

/// One step sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JournalEntry {
    /// Index of the step in the plan.
    pub index: usize,
    /// The step's label.
    pub label: String,
    /// Its transaction.
    pub tx_hash: B256,
    /// The block it was included in, once its receipt was seen (`None`: sent, not yet seen mined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
}

/// A deployment in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Journal {
    /// The chain.
    pub chain_id: u64,
    /// `DeployPlan::hash` of the plan being deployed.
    pub plan_hash: B256,
    /// The deployer's nonce before the first step.
    pub start_nonce: u64,
    /// The plan's parameters.
    pub params: DeployParams,
    /// Steps sent so far, in order.
    pub steps: Vec<JournalEntry>,
}

impl Journal {
    /// `deployments/<chainId>.partial.json` under `root`, next to the manifest.
    pub fn path(root: &Path, chain_id: u64) -> PathBuf {
        root.join("deployments")
            .join(format!("{chain_id}.partial.json"))
    }

    /// Reads the journal at `path`, `None` if there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, JournalError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(JournalError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| JournalError::Invalid {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Writes the journal atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|source| JournalError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Removes the journal (a completed deployment).
    pub fn remove(path: &Path) -> Result<(), JournalError> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(JournalError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;

    #[test]
    fn journal_roundtrips_and_refuses_unknown_fields() {
        let dir = std::env::temp_dir().join(format!("verinfer-journal-{}", std::process::id()));
        let path = Journal::path(&dir, 31337);
        assert!(path.ends_with("deployments/31337.partial.json"));
        assert_eq!(Journal::load(&path).unwrap(), None);
        let j = Journal {
            chain_id: 31337,
            plan_hash: B256::repeat_byte(1),
            start_nonce: 3,
            params: DeployParams::production(Address::repeat_byte(0xd0)),
            steps: vec![JournalEntry {
                index: 0,
                label: "create VerinferToken".into(),
                tx_hash: B256::repeat_byte(2),
                block: Some(5),
            }],
        };
        j.save(&path).unwrap();
        assert_eq!(Journal::load(&path).unwrap(), Some(j));
        std::fs::write(&path, r#"{"chainId":1,"planHash":"0x00","extra":1}"#).unwrap();
        assert!(matches!(
            Journal::load(&path),
            Err(JournalError::Invalid { .. })
        ));
        Journal::remove(&path).unwrap();
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
