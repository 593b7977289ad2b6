//! What a block explorer needs to verify each deployed contract: the compiler and its settings (from
//! the repository's `foundry.toml`, the one place they are pinned, which `script/gen-bindings.sh` also
//! reads to build the committed artifacts), each contract's source path and name, its ABI-encoded
//! constructor arguments and its `CREATE2` salt, and the exact `forge verify-contract` command.

use alloy::primitives::{Address, Bytes, B256};
use serde::{Deserialize, Serialize};

use crate::plan::{DeployPlan, StepKind};

/// The repository's `foundry.toml`, compiled in so an installed binary records the settings its
/// bytecode was built with.
const FOUNDRY_TOML: &str = include_str!("../../../foundry.toml");

/// `foundry.toml` could not be read for compiler settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Not TOML.
    #[error("foundry.toml: {0}")]
    Toml(String),
    /// A setting is missing or has the wrong type.
    #[error("foundry.toml: `profile.default.{0}` is missing or has the wrong type")]
    Field(&'static str),
}

/// Compiler and settings, as `forge verify-contract` and explorers take them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompilerSettings {
    /// solc version, e.g. `0.8.30`.
    pub version: String,
    /// Whether the optimizer is on.
    pub optimizer: bool,
    /// Optimizer runs.
    pub optimizer_runs: u64,
    /// EVM version, e.g. `cancun`.
    pub evm_version: String,
    /// Compiled through the IR pipeline.
    pub via_ir: bool,
    /// Metadata hash appended to the bytecode (`none`, `ipfs`, `bzzr1`).
    pub bytecode_hash: String,
    /// Whether the CBOR metadata is appended.
    pub cbor_metadata: bool,
}

impl CompilerSettings {
    /// The settings of this build (`foundry.toml` `[profile.default]`).
    pub fn of_this_build() -> Result<Self, SettingsError> {
        Self::parse(FOUNDRY_TOML)
    }

    /// Reads `[profile.default]` of a `foundry.toml` text (forge's defaults where a key is absent).
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| SettingsError::Toml(e.to_string()))?;
        let p = doc
            .get("profile")
            .and_then(|v| v.get("default"))
            .and_then(toml::Value::as_table)
            .ok_or(SettingsError::Field("(table)"))?;
        let string = |k: &'static str, d: &str| match p.get(k) {
            None => Ok(d.to_owned()),
            Some(v) => v.as_str().map(str::to_owned).ok_or(SettingsError::Field(k)),
        };
        let boolean = |k: &'static str, d: bool| match p.get(k) {
            None => Ok(d),
            Some(v) => v.as_bool().ok_or(SettingsError::Field(k)),
        };
        let version = p
            .get("solc_version")
            .or_else(|| p.get("solc"))
            .and_then(toml::Value::as_str)
            .ok_or(SettingsError::Field("solc_version"))?
            .to_owned();
        let optimizer_runs = match p.get("optimizer_runs") {
            None => 200,
            Some(v) => v
                .as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .ok_or(SettingsError::Field("optimizer_runs"))?,
        };
        Ok(Self {
            version,
            optimizer: boolean("optimizer", false)?,
            optimizer_runs,
            evm_version: string("evm_version", "prague")?,
            via_ir: boolean("via_ir", false)?,
            bytecode_hash: string("bytecode_hash", "ipfs")?,
            cbor_metadata: boolean("cbor_metadata", true)?,
        })
    }
}

/// What an explorer needs for one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContractVerification {
    /// `path:Name` of the source, relative to the repository root (as `forge verify-contract` takes it).
    pub source: String,
    /// ABI-encoded constructor arguments (hex).
    pub constructor_args: Bytes,
    /// The `CREATE2` salt, when created through the deterministic-deployment proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<B256>,
    /// The creation transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<B256>,
}

/// The source `path:Name` of a contract of the suite, relative to the repository root.
pub fn source_of(contract: &str) -> Option<&'static str> {
    Some(match contract {
        "VerinferToken" => "contracts/token/VerinferToken.sol:VerinferToken",
        "Staking" => "contracts/staking/Staking.sol:Staking",
        "Slasher" => "contracts/slashing/Slasher.sol:Slasher",
        "TimelockController" => {
            "node_modules/@openzeppelin/contracts/governance/TimelockController.sol:TimelockController"
        }
        "InferenceRegistry" => "contracts/registry/InferenceRegistry.sol:InferenceRegistry",
        "IdentityRegistry" => "contracts/governance/IdentityRegistry.sol:IdentityRegistry",
        "QuadraticVotes" => "contracts/governance/QuadraticVotes.sol:QuadraticVotes",
        "VerinferGovernor" => "contracts/governance/VerinferGovernor.sol:VerinferGovernor",
        "DisputeGovernor" => "contracts/governance/DisputeGovernor.sol:DisputeGovernor",
        "Referee" => "contracts/referee/Referee.sol:Referee",
        _ => return None,
    })
}

/// The verification records of every contract a plan creates (without transaction hashes).
pub fn of_plan(plan: &DeployPlan) -> std::collections::BTreeMap<String, ContractVerification> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Create {
                contract,
                constructor_args,
                salt,
                ..
            } => Some((
                contract.clone(),
                ContractVerification {
                    source: source_of(contract).unwrap_or(contract).to_owned(),
                    constructor_args: constructor_args.clone(),
                    salt: *salt,
                    tx_hash: None,
                },
            )),
            StepKind::Call { .. } => None,
        })
        .collect()
}

/// The `forge verify-contract` command that verifies `contract` at `address` on `chain_id` (run from
/// the repository root; the explorer's API key comes from `ETHERSCAN_API_KEY`).
pub fn forge_verify_command(
    chain_id: u64,
    address: Address,
    v: &ContractVerification,
    compiler: &CompilerSettings,
) -> String {
    let mut cmd = format!(
        "forge verify-contract {address} {source} --chain {chain_id} --compiler-version {version} \
         --evm-version {evm} --num-of-optimizations {runs}",
        source = v.source,
        version = compiler.version,
        evm = compiler.evm_version,
        runs = compiler.optimizer_runs,
    );
    if compiler.via_ir {
        cmd.push_str(" --via-ir");
    }
    if !v.constructor_args.is_empty() {
        cmd.push_str(&format!(" --constructor-args {}", v.constructor_args));
    }
    cmd.push_str(" --watch");
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{DeployParams, CONTRACTS};

    #[test]
    fn settings_come_from_foundry_toml() {
        let s = CompilerSettings::of_this_build().unwrap();
        let toml: toml::Table = FOUNDRY_TOML.parse().unwrap();
        let p = &toml["profile"]["default"];
        assert_eq!(s.version, p["solc_version"].as_str().unwrap());
        assert_eq!(
            s.optimizer_runs,
            p["optimizer_runs"].as_integer().unwrap() as u64
        );
        assert_eq!(s.evm_version, p["evm_version"].as_str().unwrap());
        assert!(matches!(
            CompilerSettings::parse("[profile.default]\noptimizer = 1\nsolc_version = \"0.8.30\""),
            Err(SettingsError::Field("optimizer"))
        ));
    }

    /// Every source path exists in the repository and declares the contract it names, so the
    /// `forge verify-contract` commands point at real sources.
    #[test]
    fn every_source_path_declares_its_contract() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for name in CONTRACTS {
            let src = source_of(name).unwrap();
            let (path, contract) = src.split_once(':').unwrap();
            assert_eq!(contract, name);
            let text =
                std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert!(
                text.contains(&format!("contract {name} ")),
                "{path} does not declare {name}"
            );
        }
    }

    #[test]
    fn verify_command_carries_constructor_args_compiler_and_chain() {
        let plan = DeployPlan::new(&DeployParams::production(Address::repeat_byte(0xd0)), 0);
        let v = of_plan(&plan);
        assert_eq!(v.len(), CONTRACTS.len());
        let staking = &v["Staking"];
        let cmd = forge_verify_command(
            11_155_111,
            plan.address("Staking").unwrap(),
            staking,
            &CompilerSettings::of_this_build().unwrap(),
        );
        assert!(
            cmd.contains(" contracts/staking/Staking.sol:Staking "),
            "{cmd}"
        );
        assert!(cmd.contains("--chain 11155111"), "{cmd}");
        assert!(cmd.contains("--compiler-version 0.8.30"), "{cmd}");
        assert!(cmd.contains(&format!("--constructor-args {}", staking.constructor_args)));
        assert!(staking.constructor_args.len() == 5 * 32);
    }
}
