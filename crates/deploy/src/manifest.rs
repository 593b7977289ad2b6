//! The deployment manifest `deployments/<chainId>.json`, shared by the simulator, the keeper and the
//! CLI: which block the suite was deployed at and where each contract lives.
//!
//! ```json
//! {"chainId": 31337, "block": 12, "contracts": {"Staking": "0x…", "Slasher": "0x…"}}
//! ```
//!
//! Manifests written by `verinfer deploy` also carry a `deployment` object ([`Deployment`]): the
//! deployer, the parameters, the compiler settings and, per contract, what a block explorer needs to
//! verify it (source, constructor arguments, `CREATE2` salt). It is optional, so older manifests and
//! those written by `script/Deploy.s.sol` still load; any other top-level field is refused.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::{
    plan::DeployParams,
    verification::{CompilerSettings, ContractVerification},
};

/// Errors reading or writing a manifest; each names the file (and the field when relevant).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read or written (the OS error is the source, not repeated here, so a
    /// chain printed with `{:#}` names it once).
    #[error("manifest {path}")]
    Io {
        /// The manifest file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid manifest; `field` is the JSON path of the offending value.
    #[error("{path}: invalid manifest at `{field}`: {message}")]
    Invalid {
        /// The manifest file.
        path: PathBuf,
        /// The JSON path (e.g. `contracts.Staking`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A contract the caller needs is absent from the manifest.
    #[error("{path}: field `contracts.{contract}` is missing")]
    MissingContract {
        /// The manifest file.
        path: PathBuf,
        /// The contract name.
        contract: String,
    },
}

/// Where a deployed suite lives on one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Block number of the (last) deployment transaction.
    pub block: u64,
    /// Contract name (as in the bindings, e.g. `Staking`) to address.
    pub contracts: BTreeMap<String, Address>,
    /// How the suite was deployed, for explorers and `verinfer deploy verify`; absent in manifests
    /// written before it existed or by `script/Deploy.s.sol`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
}

/// How a suite was deployed: who sent it, with which parameters and compiler, and what a block
/// explorer needs to verify each contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// The account that sent every step.
    pub deployer: Address,
    /// The parameters of the plan (including `handover` and the `CREATE2` salt, if any).
    pub params: DeployParams,
    /// The deployer's nonce before the first step (with `params`, it rebuilds the plan).
    pub start_nonce: u64,
    /// `DeployPlan::hash` of the executed plan.
    pub plan_hash: B256,
    /// Block of the last deployment transaction (`block` is the first).
    pub last_block: u64,
    /// Compiler and settings the bytecode was built with (from `foundry.toml`).
    pub compiler: CompilerSettings,
    /// Per contract name: source, constructor arguments, salt and creation transaction.
    pub verification: BTreeMap<String, ContractVerification>,
}

impl Manifest {
    /// The conventional location of the manifest of `chain_id` under the repository `root`.
    ///
    /// ```
    /// # use verinfer_deploy::manifest::Manifest;
    /// assert!(Manifest::default_path("/repo".as_ref(), 31337).ends_with("deployments/31337.json"));
    /// ```
    pub fn default_path(root: &Path, chain_id: u64) -> PathBuf {
        root.join("deployments").join(format!("{chain_id}.json"))
    }

    /// Reads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses manifest JSON; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ManifestError::Invalid {
                path: path.to_path_buf(),
                field: "$".into(),
                message: e.to_string(),
            })?;
        let invalid = |field: &str, message: String| ManifestError::Invalid {
            path: path.to_path_buf(),
            field: field.to_owned(),
            message,
        };
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("$", "expected an object".into()))?;
        for key in obj.keys() {
            if !["chainId", "block", "contracts", "deployment"].contains(&key.as_str()) {
                return Err(invalid(key, "unknown field".into()));
            }
        }
        let chain_id = obj
            .get("chainId")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid("chainId", "expected an unsigned integer".into()))?;
        let block = obj
            .get("block")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| invalid("block", "expected an unsigned integer".into()))?;
        let map = obj
            .get("contracts")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| invalid("contracts", "expected an object of name -> address".into()))?;
        let mut contracts = BTreeMap::new();
        for (name, addr) in map {
            let field = format!("contracts.{name}");
            let s = addr
                .as_str()
                .ok_or_else(|| invalid(&field, "expected an address string".into()))?;
            let a: Address = s
                .parse()
                .map_err(|e| invalid(&field, format!("`{s}` is not an address: {e}")))?;
            contracts.insert(name.clone(), a);
        }
        let deployment = match obj.get("deployment") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<Deployment>(v.clone())
                    .map_err(|e| invalid("deployment", e.to_string()))?,
            ),
        };
        Ok(Self {
            chain_id,
            block,
            contracts,
            deployment,
        })
    }

    /// The address of `contract`, or an error naming the manifest field.
    pub fn address(&self, contract: &str, path: &Path) -> Result<Address, ManifestError> {
        self.contracts
            .get(contract)
            .copied()
            .ok_or_else(|| ManifestError::MissingContract {
                path: path.to_path_buf(),
                contract: contract.to_owned(),
            })
    }

    /// Writes the manifest as pretty JSON (creating the parent directory).
    pub fn save(&self, path: &Path) -> Result<(), ManifestError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ManifestError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let mut text = serde_json::to_string_pretty(self).map_err(|e| ManifestError::Invalid {
            path: path.to_path_buf(),
            field: "$".into(),
            message: e.to_string(),
        })?;
        text.push('\n');
        std::fs::write(path, text).map_err(|source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_field_errors() {
        let p = Path::new("deployments/31337.json");
        let m = Manifest::parse(
            r#"{"chainId":31337,"block":3,"contracts":{"Staking":"0x0000000000000000000000000000000000000001"}}"#,
            p,
        )
        .unwrap();
        assert_eq!(m.chain_id, 31337);
        let back = Manifest::parse(&serde_json::to_string(&m).unwrap(), p).unwrap();
        assert_eq!(back, m);
        let err = Manifest::parse(
            r#"{"chainId":1,"block":3,"contracts":{"Staking":"0x12"}}"#,
            p,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("deployments/31337.json") && msg.contains("contracts.Staking"),
            "{msg}"
        );
        let err = Manifest::parse(r#"{"chainId":"x","block":3,"contracts":{}}"#, p).unwrap_err();
        assert!(err.to_string().contains("`chainId`"), "{err}");
        let err = m.address("Slasher", p).unwrap_err();
        assert!(err.to_string().contains("contracts.Slasher"), "{err}");
    }

    /// A manifest that cannot be read names the file; the OS error is its source and is not repeated
    /// in its own message (so a chain printed with `{:#}` carries it once).
    #[test]
    fn io_error_names_the_file_and_leaves_the_os_error_to_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("1.json");
        let err = Manifest::load(&missing).unwrap_err();
        let source = std::error::Error::source(&err)
            .expect("the OS error")
            .to_string();
        assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");
        assert!(!err.to_string().contains(&source), "{err} repeats {source}");
    }
}
