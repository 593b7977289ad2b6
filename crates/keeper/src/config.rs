//! Keeper configuration: a TOML file, validated into typed values with errors that name the
//! offending field.
//!
//! The layers are merged by [`figment`]: the file ([`RawConfig::read`]), then the environment
//! ([`RawConfig::apply_env`]: [`ENV_VARS`], each a figment layer of its own, so an error in a value
//! names the variable), then whatever the caller merges on top ([`RawConfig::merge`], e.g. the
//! command line's flags as [`figment::providers::Serialized`]). Errors name the key and the layer
//! it came from (the file's path, or the environment variable).
//!
//! [`KeeperConfig`] is pure: building it never reads the process environment, so a keeper built in
//! code (the devnet's, the bench's, a test's) is exactly what its caller wrote. The command line
//! applies the environment explicitly ([`RawConfig::apply_env`] with its own lookup).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::Address;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// Configuration errors; each names the field.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// Path.
        path: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has an unknown / mistyped field.
    #[error("invalid config {path}: {error}")]
    Parse {
        /// Path.
        path: String,
        /// figment's error: names the key and the file (and the line of a syntax error).
        error: Box<figment::Error>,
    },
    /// A layer on top of the file (an environment variable, an override) has a mistyped value.
    #[error("invalid configuration override: {0}")]
    Override(Box<figment::Error>),
    /// A field has an invalid value.
    #[error("invalid value for `{field}`: {reason}")]
    Invalid {
        /// Field (dotted path, or the env var that set it).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A required field is missing.
    #[error("missing required field `{field}` (set it in the config file or via {env})")]
    Missing {
        /// Field.
        field: &'static str,
        /// Env var that can set it.
        env: &'static str,
    },
    /// The deployment manifest named by `deployment` cannot be used (the manifest's error is the
    /// source: printed as a chain, `{:#}`, each cause appears once).
    #[error("field `deployment`")]
    Manifest(#[from] verinfer_deploy::ManifestError),
}

/// How the hot key is loaded.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Env var holding the hex key (default `VERINFER_OPERATOR_KEY`).
    pub env: Option<String>,
    /// Encrypted keystore file.
    pub keystore: Option<PathBuf>,
    /// Env var holding the keystore password (default `VERINFER_KEYSTORE_PASSWORD`).
    pub password_env: Option<String>,
}

/// How attestations are put on chain.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SubmitMode {
    /// One `submitAttestation` per result.
    Single,
    /// `submitAttestations` with up to `max_batch` results per call.
    #[default]
    Batch,
}

/// Submission tunables.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SubmitConfig {
    /// Single or batched submission.
    pub mode: SubmitMode,
    /// Most attestations per `submitAttestations` call (1..=64).
    pub max_batch: usize,
    /// Seconds to wait for a receipt before a fee bump.
    pub receipt_timeout_secs: u64,
    /// Receipt polling interval, milliseconds: the longest wait between two receipt polls of a
    /// transaction (the first polls after a broadcast back off from a 64th of it,
    /// `txmgr::receipt_backoff`).
    pub receipt_poll_ms: u64,
    /// Fee bump per replacement, percent (>= 13).
    pub bump_percent: u64,
    /// Replacements per attempt.
    pub max_bumps: u32,
    /// Cap on maxFeePerGas, gwei.
    pub max_fee_gwei: u64,
    /// Transactions of the hot key in flight at once, with consecutive nonces (1..=64; 1 sends
    /// each after the previous one's receipt).
    pub max_in_flight: usize,
}

impl Default for SubmitConfig {
    fn default() -> Self {
        Self {
            mode: SubmitMode::Batch,
            max_batch: 32,
            receipt_timeout_secs: 30,
            receipt_poll_ms: 250,
            bump_percent: 15,
            max_bumps: 5,
            max_fee_gwei: 500,
            max_in_flight: 16,
        }
    }
}

/// An inference backend definition.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BackendConfig {
    /// The built-in integer MLP: the digits classifier compiled into verinfer.
    Builtin {},
    /// An integer MLP model file (`docs/models.md`). The keeper computes the file's model id and
    /// refuses to start unless it is `model_id`.
    ModelFile {
        /// The file; a relative path is resolved against the config file's directory.
        path: PathBuf,
        /// On-chain model id this backend serves (hex bytes32).
        model_id: String,
    },
    /// An OpenAI-compatible endpoint (e.g. llama-cpp-python's server), greedy decoding
    /// (`docs/models.md`, "Language models").
    Openai {
        /// Base URL, e.g. `http://127.0.0.1:8000`.
        url: String,
        /// Model name sent to the endpoint.
        model: String,
        /// On-chain model id this backend serves (hex bytes32).
        model_id: String,
        /// Use `/v1/chat/completions` instead of `/v1/completions`.
        #[serde(default)]
        chat: bool,
        /// The GGUF weights file the server loads: when set, the keeper computes the model id from
        /// it and the decoding parameters and refuses to start unless it is `model_id`. A relative
        /// path is resolved against the config file's directory.
        #[serde(default)]
        gguf: Option<PathBuf>,
        /// Cap on generated tokens (part of the model id).
        #[serde(default = "default_max_tokens")]
        max_tokens: u32,
        /// Longest wait for one completion, in seconds (1..=600).
        #[serde(default = "default_backend_timeout_secs")]
        timeout_secs: u64,
        /// Retries after a failed attempt (connection error, timeout, 5xx), 0..=10.
        #[serde(default = "default_backend_retries")]
        retries: u32,
        /// Completions in flight at once (1..=256); more wait their turn.
        #[serde(default = "default_backend_concurrency")]
        concurrency: usize,
    },
    /// A command that reads the input on stdin and writes the output on stdout.
    Command {
        /// Program and arguments.
        argv: Vec<String>,
        /// On-chain model id this backend serves (hex bytes32).
        model_id: String,
        /// Longest run of the command for one input, in seconds (1..=600): a command that hangs is
        /// killed then, and the inference fails (the assignment is tried again on the next poll).
        #[serde(default = "default_backend_timeout_secs")]
        timeout_secs: u64,
    },
}

fn default_max_tokens() -> u32 {
    crate::llm::DEFAULT_MAX_TOKENS
}
fn default_backend_timeout_secs() -> u64 {
    60
}
fn default_backend_retries() -> u32 {
    2
}
fn default_backend_concurrency() -> usize {
    4
}

/// Deliberate misbehaviour, for the devnet and tests only: set in code on a [`KeeperConfig`]
/// ([`KeeperConfig::misbehave`]), never from a config file (a `misbehave` key is refused), and a
/// keeper refuses it on any chain but a development chain ([`DEV_CHAIN_ID`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Honest.
    #[default]
    None,
    /// Returns a wrong output.
    WrongResult,
    /// Signs two different outputs for the same request (submits one, leaks the other).
    Equivocate,
}

/// The raw file format.
#[derive(Clone, Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// JSON-RPC HTTP endpoint.
    pub rpc_url: Option<String>,
    /// InferenceRegistry address.
    pub registry: Option<String>,
    /// Deployment manifest (`deployments/<chainId>.json`) to read the registry address from.
    pub deployment: Option<PathBuf>,
    /// Operator (cold owner) address the keeper answers for.
    pub operator: Option<String>,
    /// Directory of the keeper database.
    pub data_dir: Option<PathBuf>,
    /// Blocks behind head before a log is acted on.
    pub confirmations: Option<u64>,
    /// Poll interval, milliseconds.
    pub poll_interval_ms: Option<u64>,
    /// Longest wait for the node's answer to one RPC call, seconds (1..=600, default 30): a call
    /// the node takes and never answers is given up on and retried.
    pub rpc_timeout_secs: Option<u64>,
    /// First block to scan when there is no cursor (default: the manifest's deployment block when
    /// the registry comes from `deployment`, else 0).
    pub start_block: Option<u64>,
    /// Largest eth_getLogs range.
    pub max_block_range: Option<u64>,
    /// How many recent blocks are re-checked for reorgs.
    pub reorg_depth: Option<u64>,
    /// Metrics/health listen address (default [`DEFAULT_METRICS_ADDR`], loopback; `"off"` disables;
    /// a non-loopback address such as `0.0.0.0:9464` is taken as the operator's explicit opt-in).
    pub metrics_addr: Option<String>,
    /// Listen address of the public outputs API (`GET /v1/outputs/<outputHash>`); may be public.
    pub outputs_addr: Option<String>,
    /// Re-execute and challenge peers' answers.
    pub watch: Option<bool>,
    /// Finalize expired windows and report missed assignments.
    pub finalize: Option<bool>,
    /// Deliver results to consumer contracts (`deliverOutput`) for the callback fee.
    pub deliver: Option<bool>,
    /// Blocks the log cursor may trail the chain head (beyond `confirmations`) before `/health`
    /// says unhealthy (default 20).
    pub health_max_lag_blocks: Option<u64>,
    /// The hot key's gas floor, wei (default [`DEFAULT_MIN_HOT_KEY_BALANCE_WEI`], 0.01 ether): below
    /// it the keeper refuses to start, and `/health` says unhealthy while it runs.
    pub min_hot_key_balance_wei: Option<u64>,
    /// Key loading.
    #[serde(default)]
    pub key: KeyConfig,
    /// Submission.
    #[serde(default)]
    pub submit: SubmitConfig,
    /// Backends; default: the built-in model.
    #[serde(default)]
    pub backend: Vec<BackendConfig>,
    /// The shared slashing-protection store of replicas (`[signing_store]`); absent: a single
    /// keeper with its embedded journal only.
    pub signing_store: Option<crate::signing_store::RawSigningStoreConfig>,
}

/// The default `metrics_addr`: loopback only.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

/// The default gas floor of the hot key: 0.01 ether.
pub const DEFAULT_MIN_HOT_KEY_BALANCE_WEI: u64 = 10_000_000_000_000_000;

/// The chain id of anvil and other development chains, the only chain a misbehaving keeper runs on.
pub const DEV_CHAIN_ID: u64 = 31337;

impl RawConfig {
    /// Resolves every relative path of the file against `dir` (the config file's directory): the
    /// deployment manifest, `data_dir`, `key.keystore`, model files, GGUF files and a command
    /// backend's program when it is a path (`./infer.sh`, not a bare `python3`, which is looked up in
    /// `PATH`). Paths set through `VERINFER_*` variables ([`RawConfig::apply_env`]) come from the
    /// shell and stay relative to the working directory.
    pub fn resolve_paths(&mut self, dir: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = dir.join(path.strip_prefix(".").unwrap_or(path));
            }
        };
        for path in [
            self.deployment.as_mut(),
            self.data_dir.as_mut(),
            self.key.keystore.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            resolve(path);
        }
        for b in &mut self.backend {
            match b {
                BackendConfig::ModelFile { path, .. } => resolve(path),
                BackendConfig::Openai {
                    gguf: Some(path), ..
                } => resolve(path),
                BackendConfig::Command { argv, .. } => {
                    if let Some(program) = argv.first_mut() {
                        let as_path = Path::new(program.as_str());
                        if as_path.is_relative() && as_path.components().count() > 1 {
                            let relative = as_path.strip_prefix(".").unwrap_or(as_path);
                            *program = dir.join(relative).display().to_string();
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Validated keeper configuration.
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    /// RPC endpoint.
    pub rpc_url: String,
    /// Registry address.
    pub registry: Address,
    /// Operator address.
    pub operator: Address,
    /// Database directory.
    pub data_dir: PathBuf,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Poll interval.
    pub poll_interval: Duration,
    /// Longest wait for the node's answer to one RPC call (each retry waits as long again).
    pub rpc_timeout: Duration,
    /// Start block when there is no cursor (the manifest's deployment block by default).
    pub start_block: u64,
    /// Max log range.
    pub max_block_range: u64,
    /// Reorg re-check depth.
    pub reorg_depth: u64,
    /// Metrics address (None: disabled).
    pub metrics_addr: Option<SocketAddr>,
    /// Outputs API address (None: disabled).
    pub outputs_addr: Option<SocketAddr>,
    /// Watcher role.
    pub watch: bool,
    /// Finalizer role.
    pub finalize: bool,
    /// Deliverer role: call consumer contracts back with final (and opted-in early) results.
    pub deliver: bool,
    /// Blocks the cursor may trail the head (beyond `confirmations`) while healthy.
    pub health_max_lag_blocks: u64,
    /// The hot key's gas floor, wei.
    pub min_hot_key_balance_wei: u64,
    /// Key.
    pub key: KeyConfig,
    /// Submission.
    pub submit: SubmitConfig,
    /// Backends.
    pub backends: Vec<BackendConfig>,
    /// Deliberate misbehaviour (the devnet and tests only): no config file sets it (a `misbehave` key
    /// is refused), only code; a keeper refuses it on any chain but [`DEV_CHAIN_ID`].
    pub misbehave: Misbehaviour,
    /// The shared slashing-protection store, when this keeper is one of several replicas.
    pub signing_store: Option<crate::signing_store::SigningStoreConfig>,
}

fn parse_addr(field: &str, v: &str) -> Result<Address, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Invalid {
        field: field.into(),
        reason: format!("`{v}` is not a 20-byte hex address"),
    })
}

/// Reads the registry address out of a deployment manifest (`contracts.InferenceRegistry`) and the
/// block the suite was deployed at (`block`), where a keeper without a cursor starts scanning.
pub fn registry_from_manifest(path: &Path) -> Result<(Address, u64), ConfigError> {
    let manifest = verinfer_deploy::Manifest::load(path)?;
    Ok((manifest.address("InferenceRegistry", path)?, manifest.block))
}

impl RawConfig {
    /// Reads and parses the TOML file at `path` (relative model paths resolved against its
    /// directory).
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if let Ok(table) = text.parse::<toml::Table>() {
            if table.contains_key("misbehave") {
                return Err(ConfigError::Invalid {
                    field: "misbehave".into(),
                    reason: "deliberate misbehaviour is a devnet and test setting, set in code; \
                             a keeper config cannot set it (remove the line)"
                        .into(),
                });
            }
        }
        let mut raw = Figment::from(Toml::file_exact(path))
            .extract::<RawConfig>()
            .map_err(|e| ConfigError::Parse {
                path: path.display().to_string(),
                error: Box::new(e),
            })?;
        raw.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        Ok(raw)
    }

    /// Merges `layer` over this configuration (its values win), e.g. the command line's flags as
    /// [`Serialized::defaults`]; a mistyped value is [`ConfigError::Override`], naming the key and
    /// the layer. Strings are read as numbers and booleans where the field is one (`"7"` for
    /// `confirmations`), as environment variables need.
    pub fn merge(&self, layer: impl Provider) -> Result<Self, ConfigError> {
        Figment::from(Serialized::defaults(self))
            .merge(layer)
            .extract_lossy()
            .map_err(|e| ConfigError::Override(Box::new(e)))
    }

    /// Applies the environment variables of [`ENV_VARS`] found through `var` (the command line
    /// passes the process environment; nothing else should), each as a figment layer over the
    /// configuration so far: `VERINFER_RPC_URL` (else `ETH_RPC_URL`, foundry's), `VERINFER_REGISTRY`,
    /// `VERINFER_DEPLOYMENT`, `VERINFER_OPERATOR`, `VERINFER_DATA_DIR`, `VERINFER_CONFIRMATIONS`,
    /// `VERINFER_METRICS_ADDR`, `VERINFER_OUTPUTS_ADDR`, `VERINFER_KEYSTORE`,
    /// `VERINFER_SIGNING_STORE_URL` (`signing_store.postgres_url`, so a password need not be written
    /// in the file). Empty values are ignored. A mistyped value is [`ConfigError::Override`] naming
    /// the variable.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let mut layers = Figment::new();
        for (name, key) in ENV_VARS {
            if let Some(value) = var(name).filter(|v| !v.is_empty()) {
                layers = layers.merge(EnvVar { name, key, value });
            }
        }
        *self = self.merge(layers)?;
        Ok(())
    }
}

/// The environment variables [`RawConfig::apply_env`] reads, each with the key it sets, lowest
/// precedence first (`VERINFER_RPC_URL` wins over `ETH_RPC_URL`).
pub const ENV_VARS: [(&str, &str); 11] = [
    ("ETH_RPC_URL", "rpc_url"),
    ("VERINFER_RPC_URL", "rpc_url"),
    ("VERINFER_REGISTRY", "registry"),
    ("VERINFER_DEPLOYMENT", "deployment"),
    ("VERINFER_OPERATOR", "operator"),
    ("VERINFER_DATA_DIR", "data_dir"),
    ("VERINFER_CONFIRMATIONS", "confirmations"),
    ("VERINFER_METRICS_ADDR", "metrics_addr"),
    ("VERINFER_OUTPUTS_ADDR", "outputs_addr"),
    ("VERINFER_KEYSTORE", "key.keystore"),
    ("VERINFER_SIGNING_STORE_URL", "signing_store.postgres_url"),
];

/// One environment variable as a figment layer (a layer of its own, so an error in its value names
/// it): its value, as a string, at `key`.
struct EnvVar {
    name: &'static str,
    key: &'static str,
    value: String,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let nested = figment::util::nest(self.key, Value::from(self.value.clone()));
        Ok(Profile::Default.collect(nested.into_dict().unwrap_or_default()))
    }
}

impl KeeperConfig {
    /// Loads `path` (if given) and validates; reads no environment variable.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let raw = match path {
            Some(p) => RawConfig::read(p)?,
            None => RawConfig::default(),
        };
        Self::from_raw(raw)
    }

    /// Validates `raw`; reads no environment variable.
    pub fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let rpc_url = raw.rpc_url.ok_or(ConfigError::Missing {
            field: "rpc_url",
            env: "VERINFER_RPC_URL",
        })?;
        if !(rpc_url.starts_with("http://") || rpc_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                field: "rpc_url".into(),
                reason: format!("`{rpc_url}` is not an http(s) URL"),
            });
        }
        let (registry, deployed_at) = match (raw.registry, raw.deployment) {
            (Some(r), _) => (parse_addr("registry", &r)?, 0),
            (None, Some(d)) => registry_from_manifest(&d)?,
            (None, None) => {
                return Err(ConfigError::Missing {
                    field: "registry",
                    env: "VERINFER_REGISTRY",
                })
            }
        };
        let operator = parse_addr(
            "operator",
            &raw.operator.ok_or(ConfigError::Missing {
                field: "operator",
                env: "VERINFER_OPERATOR",
            })?,
        )?;
        let outputs_addr = raw
            .outputs_addr
            .map(|a| {
                a.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                    field: "outputs_addr".into(),
                    reason: format!("`{a}` is not host:port"),
                })
            })
            .transpose()?;
        let metrics_addr = match raw.metrics_addr.as_deref().map(str::trim) {
            Some("off") => None,
            a => {
                let a = a.unwrap_or(DEFAULT_METRICS_ADDR);
                Some(a.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                    field: "metrics_addr".into(),
                    reason: format!("`{a}` is not host:port (or `off`)"),
                })?)
            }
        };
        let submit = raw.submit;
        if submit.max_batch == 0 || submit.max_batch > 64 {
            return Err(ConfigError::Invalid {
                field: "submit.max_batch".into(),
                reason: format!("{} not in 1..=64", submit.max_batch),
            });
        }
        if submit.max_in_flight == 0 || submit.max_in_flight > 64 {
            return Err(ConfigError::Invalid {
                field: "submit.max_in_flight".into(),
                reason: format!("{} not in 1..=64", submit.max_in_flight),
            });
        }
        if submit.bump_percent < 13 || submit.bump_percent > 200 {
            return Err(ConfigError::Invalid {
                field: "submit.bump_percent".into(),
                reason: format!(
                    "{} not in 13..=200 (nodes require > 12.5 %)",
                    submit.bump_percent
                ),
            });
        }
        if submit.receipt_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                field: "submit.receipt_timeout_secs".into(),
                reason: "must be > 0".into(),
            });
        }
        if submit.receipt_poll_ms == 0 || submit.receipt_poll_ms > 60_000 {
            return Err(ConfigError::Invalid {
                field: "submit.receipt_poll_ms".into(),
                reason: format!("{} not in 1..=60000", submit.receipt_poll_ms),
            });
        }
        let poll_ms = raw.poll_interval_ms.unwrap_or(500);
        if poll_ms == 0 {
            return Err(ConfigError::Invalid {
                field: "poll_interval_ms".into(),
                reason: "must be > 0".into(),
            });
        }
        let rpc_timeout_secs = raw.rpc_timeout_secs.unwrap_or(30);
        if !(1..=600).contains(&rpc_timeout_secs) {
            return Err(ConfigError::Invalid {
                field: "rpc_timeout_secs".into(),
                reason: format!("{rpc_timeout_secs} not in 1..=600"),
            });
        }
        let max_block_range = raw.max_block_range.unwrap_or(2000);
        if max_block_range == 0 {
            return Err(ConfigError::Invalid {
                field: "max_block_range".into(),
                reason: "must be > 0".into(),
            });
        }
        for (i, b) in raw.backend.iter().enumerate() {
            match b {
                BackendConfig::Openai { model_id, .. }
                | BackendConfig::Command { model_id, .. }
                | BackendConfig::ModelFile { model_id, .. } => {
                    if model_id.parse::<alloy::primitives::B256>().is_err() {
                        return Err(ConfigError::Invalid {
                            field: format!("backend[{i}].model_id"),
                            reason: format!("`{model_id}` is not a bytes32 hex"),
                        });
                    }
                }
                BackendConfig::Builtin { .. } => {}
            }
            if let BackendConfig::Openai {
                max_tokens,
                timeout_secs,
                retries,
                concurrency,
                ..
            } = b
            {
                let bounds = [
                    ("max_tokens", u64::from(*max_tokens), 1, 4096),
                    ("timeout_secs", *timeout_secs, 1, 600),
                    ("retries", u64::from(*retries), 0, 10),
                    ("concurrency", *concurrency as u64, 1, 256),
                ];
                for (name, v, lo, hi) in bounds {
                    if !(lo..=hi).contains(&v) {
                        return Err(ConfigError::Invalid {
                            field: format!("backend[{i}].{name}"),
                            reason: format!("{v} not in {lo}..={hi}"),
                        });
                    }
                }
            }
            if let BackendConfig::Command {
                argv, timeout_secs, ..
            } = b
            {
                if argv.is_empty() {
                    return Err(ConfigError::Invalid {
                        field: format!("backend[{i}].argv"),
                        reason: "empty".into(),
                    });
                }
                if !(1..=600).contains(timeout_secs) {
                    return Err(ConfigError::Invalid {
                        field: format!("backend[{i}].timeout_secs"),
                        reason: format!("{timeout_secs} not in 1..=600"),
                    });
                }
            }
        }
        let backends = if raw.backend.is_empty() {
            vec![BackendConfig::Builtin {}]
        } else {
            raw.backend
        };
        if raw.key.keystore.is_some() && raw.key.env.is_some() {
            return Err(ConfigError::Invalid {
                field: "key".into(),
                reason: "set either key.env or key.keystore, not both".into(),
            });
        }
        Ok(Self {
            rpc_url,
            registry,
            operator,
            data_dir: raw.data_dir.unwrap_or_else(|| PathBuf::from("keeper-data")),
            confirmations: raw.confirmations.unwrap_or(0),
            poll_interval: Duration::from_millis(poll_ms),
            rpc_timeout: Duration::from_secs(rpc_timeout_secs),
            start_block: raw.start_block.unwrap_or(deployed_at),
            max_block_range,
            reorg_depth: raw.reorg_depth.unwrap_or(12).max(1),
            metrics_addr,
            outputs_addr,
            watch: raw.watch.unwrap_or(true),
            finalize: raw.finalize.unwrap_or(true),
            deliver: raw.deliver.unwrap_or(true),
            health_max_lag_blocks: raw.health_max_lag_blocks.unwrap_or(20),
            min_hot_key_balance_wei: raw
                .min_hot_key_balance_wei
                .unwrap_or(DEFAULT_MIN_HOT_KEY_BALANCE_WEI),
            key: raw.key,
            submit,
            backends,
            misbehave: Misbehaviour::None,
            signing_store: raw
                .signing_store
                .map(crate::signing_store::RawSigningStoreConfig::validate)
                .transpose()?,
        })
    }

    /// Loads the hot key as configured (keystore + password variable, or hex key variable), the
    /// variables looked up through `var` (the command line passes the process environment).
    pub fn load_key(
        &self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<crate::attest::HotKey, crate::attest::KeyError> {
        if let Some(ks) = &self.key.keystore {
            let pw_env = self
                .key
                .password_env
                .clone()
                .unwrap_or_else(|| "VERINFER_KEYSTORE_PASSWORD".into());
            let pw = var(&pw_env).unwrap_or_default();
            return crate::attest::HotKey::from_keystore(ks, &pw);
        }
        let name = self
            .key
            .env
            .clone()
            .unwrap_or_else(|| "VERINFER_OPERATOR_KEY".into());
        let hex = var(&name).ok_or_else(|| crate::attest::KeyError::InvalidKey {
            source_name: format!("{name} (not set)"),
        })?;
        crate::attest::HotKey::from_hex(&hex, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Result<RawConfig, toml::de::Error> {
        toml::from_str(s)
    }

    const BASE: &str = r#"
rpc_url = "http://127.0.0.1:8545"
registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
operator = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = KeeperConfig::from_raw(raw(BASE).unwrap()).unwrap();
        assert_eq!(c.confirmations, 0);
        assert_eq!(c.submit.mode, SubmitMode::Batch);
        assert_eq!(c.backends, vec![BackendConfig::Builtin {}]);
        assert_eq!(c.rpc_timeout, Duration::from_secs(30));
    }

    #[test]
    fn rpc_timeout_is_read_and_bounded() {
        let c =
            KeeperConfig::from_raw(raw(&format!("{BASE}rpc_timeout_secs = 5\n")).unwrap()).unwrap();
        assert_eq!(c.rpc_timeout, Duration::from_secs(5));
        for bad in [0, 601] {
            let e =
                KeeperConfig::from_raw(raw(&format!("{BASE}rpc_timeout_secs = {bad}\n")).unwrap())
                    .unwrap_err();
            assert!(e.to_string().contains("rpc_timeout_secs"), "{e}");
        }
    }

    #[test]
    fn a_command_backends_timeout_is_read_and_bounded() {
        let backend = |t: &str| {
            format!(
                "{BASE}[[backend]]\nkind = \"command\"\nargv = [\"cat\"]\nmodel_id = \"0x{}\"\n{t}",
                "11".repeat(32)
            )
        };
        let c = KeeperConfig::from_raw(raw(&backend("")).unwrap()).unwrap();
        assert!(matches!(
            c.backends[..],
            [BackendConfig::Command {
                timeout_secs: 60,
                ..
            }]
        ));
        let c = KeeperConfig::from_raw(raw(&backend("timeout_secs = 2\n")).unwrap()).unwrap();
        assert!(matches!(
            c.backends[..],
            [BackendConfig::Command {
                timeout_secs: 2,
                ..
            }]
        ));
        let e = KeeperConfig::from_raw(raw(&backend("timeout_secs = 0\n")).unwrap()).unwrap_err();
        assert!(e.to_string().contains("backend[0].timeout_secs"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let e = KeeperConfig::from_raw(raw(&BASE.replace("0x5FbDB", "0xZZ")).unwrap()).unwrap_err();
        assert!(e.to_string().contains("`registry`"), "{e}");
        let e = KeeperConfig::from_raw(
            raw(&format!("{BASE}\n[submit]\nreceipt_poll_ms = 0\n")).unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("submit.receipt_poll_ms"), "{e}");
        let e = KeeperConfig::from_raw(raw(&format!("{BASE}\n[submit]\nmax_batch = 0\n")).unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("submit.max_batch"), "{e}");
        let e = KeeperConfig::from_raw(
            raw(&format!("{BASE}\nmetrics_addr = \"everywhere\"\n")).unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("metrics_addr"), "{e}");
        let e = raw(&format!("{BASE}\nbogus = 1\n")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = KeeperConfig::from_raw(
            raw("registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"").unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("rpc_url"), "{e}");
    }

    /// The environment is read only where the command line asks: `apply_env` takes its lookup, and
    /// a config built without it is exactly what the caller wrote.
    #[test]
    fn overrides_come_only_from_the_lookup_given() {
        let mut r = raw(BASE).unwrap();
        r.apply_env(|k| match k {
            "VERINFER_RPC_URL" => Some("http://10.0.0.1:8545".into()),
            "VERINFER_CONFIRMATIONS" => Some("3".into()),
            "VERINFER_OPERATOR" => Some(String::new()),
            _ => None,
        })
        .unwrap();
        let c = KeeperConfig::from_raw(r).unwrap();
        assert_eq!(c.rpc_url, "http://10.0.0.1:8545");
        assert_eq!(c.confirmations, 3);
        assert_eq!(
            c.operator,
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse::<Address>()
                .unwrap(),
            "an empty value is no override"
        );
        let mut r = raw(BASE).unwrap();
        let e = r
            .apply_env(|k| (k == "VERINFER_CONFIRMATIONS").then(|| "many".into()))
            .unwrap_err();
        assert!(e.to_string().contains("VERINFER_CONFIRMATIONS"), "{e}");
    }

    /// A layer merged in code (as a command line's flags would be) wins over the file, nested keys
    /// included, and leaves the rest of the file as written.
    #[test]
    fn a_merged_layer_wins_over_the_file() {
        let file = raw(&format!(
            "{BASE}confirmations = 2\n[submit]\nmax_batch = 4\n"
        ))
        .unwrap();
        let merged = file
            .merge(Serialized::default("submit.max_batch", 8))
            .unwrap();
        let c = KeeperConfig::from_raw(merged).unwrap();
        assert_eq!(c.submit.max_batch, 8);
        assert_eq!(c.confirmations, 2);
        assert_eq!(c.rpc_url, "http://127.0.0.1:8545");
        let e = file
            .merge(Serialized::default("submit.max_batch", "lots"))
            .unwrap_err();
        assert!(e.to_string().contains("submit.max_batch"), "{e}");
    }

    /// foundry's `ETH_RPC_URL` sets the node when `VERINFER_RPC_URL` does not; both set, verinfer's
    /// own wins; the file's value stands when neither is set.
    #[test]
    fn eth_rpc_url_is_read_below_verinfer_rpc_url() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            let mut r = raw(BASE).unwrap();
            r.apply_env(|k| {
                vars.iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| (*v).to_owned())
            })
            .unwrap();
            KeeperConfig::from_raw(r).unwrap().rpc_url
        };
        assert_eq!(with(&[]), "http://127.0.0.1:8545");
        assert_eq!(
            with(&[("ETH_RPC_URL", "http://10.0.0.2:8545")]),
            "http://10.0.0.2:8545"
        );
        assert_eq!(
            with(&[
                ("ETH_RPC_URL", "http://10.0.0.2:8545"),
                ("VERINFER_RPC_URL", "http://10.0.0.1:8545")
            ]),
            "http://10.0.0.1:8545"
        );
    }

    /// Every layer's error names the key and where the value came from: a mistyped field of the
    /// file names the file, a syntax error its line, a nested override (`key.keystore`,
    /// `signing_store.postgres_url`) lands in its section.
    #[test]
    fn layer_errors_name_the_key_and_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keeper.toml");
        std::fs::write(&path, format!("{BASE}confirmations = \"seven\"\n")).unwrap();
        let e = RawConfig::read(&path).unwrap_err().to_string();
        assert!(e.contains("confirmations"), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        std::fs::write(&path, format!("{BASE}[submit]\nmax_batch = 4\nbogus = 1\n")).unwrap();
        let e = RawConfig::read(&path).unwrap_err().to_string();
        assert!(e.contains("bogus") && e.contains("submit"), "{e}");
        std::fs::write(&path, format!("{BASE}confirmations = \n")).unwrap();
        let e = RawConfig::read(&path).unwrap_err().to_string();
        assert!(e.contains("line 5"), "{e}");

        let mut r = raw(BASE).unwrap();
        r.apply_env(|k| match k {
            "VERINFER_KEYSTORE" => Some("/keys/hot.json".into()),
            "VERINFER_SIGNING_STORE_URL" => Some("postgres://k@db/keeper".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(r.key.keystore, Some(PathBuf::from("/keys/hot.json")));
        let store = r.signing_store.unwrap();
        assert_eq!(
            store.postgres_url.as_deref(),
            Some("postgres://k@db/keeper")
        );
        assert_eq!(store.replica, None);
    }

    /// `/metrics` and `/health` listen on loopback unless the operator writes another address: the
    /// default is [`DEFAULT_METRICS_ADDR`], `0.0.0.0:…` is taken as written (a container's Prometheus
    /// scrapes it), and `off` disables the endpoints.
    #[test]
    fn metrics_addr_defaults_to_loopback_and_all_interfaces_is_an_explicit_opt_in() {
        let c = KeeperConfig::from_raw(raw(BASE).unwrap()).unwrap();
        let default = c.metrics_addr.expect("metrics are on by default");
        assert!(default.ip().is_loopback(), "{default}");
        assert_eq!(default.to_string(), DEFAULT_METRICS_ADDR);
        let all = KeeperConfig::from_raw(
            raw(&format!("{BASE}\nmetrics_addr = \"0.0.0.0:9464\"\n")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            all.metrics_addr.map(|a| a.to_string()).as_deref(),
            Some("0.0.0.0:9464")
        );
        let off =
            KeeperConfig::from_raw(raw(&format!("{BASE}\nmetrics_addr = \"off\"\n")).unwrap())
                .unwrap();
        assert_eq!(off.metrics_addr, None);
    }

    /// A keeper config cannot make a keeper misbehave: the key is refused with a message naming it,
    /// so a production keeper is honest whatever its file says (the devnet sets it in code).
    #[test]
    fn misbehave_is_refused_in_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("keeper.toml");
        std::fs::write(&cfg, format!("{BASE}misbehave = \"equivocate\"\n")).unwrap();
        let e = KeeperConfig::load(Some(&cfg)).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { field, .. } if field == "misbehave"),
            "{e}"
        );
        assert!(e.to_string().contains("devnet"), "{e}");
        std::fs::write(&cfg, BASE).unwrap();
        let c = KeeperConfig::load(Some(&cfg)).unwrap();
        assert_eq!(c.misbehave, Misbehaviour::None);
    }

    /// A keeper without a cursor starts at the block the manifest says the suite was deployed at, not
    /// at genesis; an explicit `start_block` wins, and a registry given without a manifest starts at 0.
    #[test]
    fn start_block_defaults_to_the_manifests_deployment_block() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("84532.json");
        std::fs::write(
            &manifest,
            r#"{"chainId":84532,"block":1234567,"contracts":{"InferenceRegistry":"0x5FbDB2315678afecb367f032d93F642f64180aa3"}}"#,
        )
        .unwrap();
        let with_manifest = |extra: &str| {
            let text = format!(
                "rpc_url = \"http://127.0.0.1:8545\"\ndeployment = \"84532.json\"\n\
                 operator = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n{extra}"
            );
            let cfg = dir.path().join("keeper.toml");
            std::fs::write(&cfg, text).unwrap();
            KeeperConfig::load(Some(&cfg)).unwrap()
        };
        let c = with_manifest("");
        assert_eq!(c.start_block, 1_234_567);
        assert_eq!(
            c.registry,
            "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(with_manifest("start_block = 7\n").start_block, 7);
        let no_manifest = KeeperConfig::from_raw(raw(BASE).unwrap()).unwrap();
        assert_eq!(no_manifest.start_block, 0);
    }

    /// Printed as a chain (`{:#}`, as the command line prints errors), a manifest that cannot be read
    /// names the field, the file and the OS error once each (regression: the Display of both
    /// `ConfigError::Manifest` and `ManifestError::Io` repeated their source, so it came out twice).
    #[test]
    fn error_chains_name_each_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("31337.json");
        let e = KeeperConfig::from_raw(RawConfig {
            deployment: Some(missing.clone()),
            ..raw(&BASE.replace(
                "registry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n",
                "",
            ))
            .unwrap()
        })
        .unwrap_err();
        let chain = format!("{:#}", anyhow::Error::from(e));
        let os = std::fs::read(&missing).unwrap_err().to_string();
        for part in ["field `deployment`", missing.to_str().unwrap(), os.as_str()] {
            assert_eq!(chain.matches(part).count(), 1, "`{part}` in: {chain}");
        }
        let cfg = dir.path().join("absent.toml");
        let chain = format!(
            "{:#}",
            anyhow::Error::from(KeeperConfig::load(Some(&cfg)).unwrap_err())
        );
        assert_eq!(chain.matches(os.as_str()).count(), 1, "{chain}");
        assert!(chain.starts_with("cannot read config file"), "{chain}");
    }

    /// Every path of a config file (manifest, journal, keystore, model files, a command's program)
    /// is taken from the file's directory; bare program names stay for `PATH`.
    #[test]
    fn every_relative_path_is_resolved_against_the_config_file() {
        let mut r = raw(&format!(
            "{BASE}deployment = \"deployments/1.json\"\ndata_dir = \"db\"\n\
             [key]\nkeystore = \"keys/hot.json\"\n\
             [[backend]]\nkind = \"command\"\nargv = [\"./bin/infer\", \"x\"]\nmodel_id = \"0x{id}\"\n\
             [[backend]]\nkind = \"command\"\nargv = [\"python3\", \"m.py\"]\nmodel_id = \"0x{id}\"\n\
             [[backend]]\nkind = \"model_file\"\npath = \"/abs/m.vimlp\"\nmodel_id = \"0x{id}\"\n",
            id = "11".repeat(32)
        ))
        .unwrap();
        r.resolve_paths(Path::new("/etc/verinfer"));
        assert_eq!(
            r.deployment.as_deref(),
            Some(Path::new("/etc/verinfer/deployments/1.json"))
        );
        assert_eq!(r.data_dir.as_deref(), Some(Path::new("/etc/verinfer/db")));
        assert_eq!(
            r.key.keystore.as_deref(),
            Some(Path::new("/etc/verinfer/keys/hot.json"))
        );
        let argv0: Vec<String> = r
            .backend
            .iter()
            .filter_map(|b| match b {
                BackendConfig::Command { argv, .. } => argv.first().cloned(),
                _ => None,
            })
            .collect();
        assert_eq!(argv0, ["/etc/verinfer/bin/infer", "python3"]);
        assert!(
            matches!(&r.backend[2], BackendConfig::ModelFile { path, .. } if path == Path::new("/abs/m.vimlp"))
        );
    }

    #[test]
    fn backends_parse() {
        let c = KeeperConfig::from_raw(
            raw(&format!(
                "{BASE}\n[[backend]]\nkind = \"openai\"\nurl = \"http://127.0.0.1:1\"\nmodel = \"m\"\nmodel_id = \"0x{}\"\n",
                "11".repeat(32)
            ))
            .unwrap(),
        )
        .unwrap();
        assert!(matches!(c.backends[0], BackendConfig::Openai { .. }));
    }

    #[test]
    fn model_file_path_is_resolved_against_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("keeper.toml");
        std::fs::write(
            &cfg,
            format!(
                "{BASE}\n[[backend]]\nkind = \"model_file\"\npath = \"models/digits.vimlp\"\nmodel_id = \"0x{}\"\n",
                "11".repeat(32)
            ),
        )
        .unwrap();
        let c = KeeperConfig::load(Some(&cfg)).unwrap();
        assert_eq!(
            c.backends,
            vec![BackendConfig::ModelFile {
                path: dir.path().join("models/digits.vimlp"),
                model_id: format!("0x{}", "11".repeat(32)),
            }]
        );
        let bad = raw(&format!(
            "{BASE}\n[[backend]]\nkind = \"model_file\"\npath = \"m\"\nmodel_id = \"nope\"\n"
        ))
        .unwrap();
        let e = KeeperConfig::from_raw(bad).unwrap_err();
        assert!(e.to_string().contains("backend[0].model_id"), "{e}");
    }

    #[test]
    fn openai_backend_limits_are_bounded_and_name_the_field() {
        let id = format!("0x{}", "22".repeat(32));
        let ok = raw(&format!(
            "{BASE}\n[[backend]]\nkind = \"openai\"\nurl = \"http://127.0.0.1:8000\"\nmodel = \"m\"\nmodel_id = \"{id}\"\n"
        ))
        .unwrap();
        match &KeeperConfig::from_raw(ok).unwrap().backends[0] {
            BackendConfig::Openai {
                max_tokens,
                timeout_secs,
                retries,
                concurrency,
                gguf,
                ..
            } => assert_eq!(
                (
                    *max_tokens,
                    *timeout_secs,
                    *retries,
                    *concurrency,
                    gguf.is_none()
                ),
                (crate::llm::DEFAULT_MAX_TOKENS, 60, 2, 4, true)
            ),
            other => panic!("{other:?}"),
        }
        for (field, value) in [
            ("max_tokens", "0"),
            ("timeout_secs", "601"),
            ("retries", "11"),
            ("concurrency", "0"),
        ] {
            let bad = raw(&format!(
                "{BASE}\n[[backend]]\nkind = \"openai\"\nurl = \"u\"\nmodel = \"m\"\nmodel_id = \"{id}\"\n{field} = {value}\n"
            ))
            .unwrap();
            let e = KeeperConfig::from_raw(bad).unwrap_err();
            assert!(
                e.to_string().contains(&format!("backend[0].{field}")),
                "{e}"
            );
        }
    }

    #[test]
    fn gguf_path_is_resolved_against_the_config_file() {
        let mut r = raw(&format!(
            "{BASE}\n[[backend]]\nkind = \"openai\"\nurl = \"u\"\nmodel = \"m\"\nmodel_id = \"0x{}\"\ngguf = \"w.gguf\"\n",
            "22".repeat(32)
        ))
        .unwrap();
        r.resolve_paths(Path::new("/etc/verinfer"));
        match &r.backend[0] {
            BackendConfig::Openai { gguf, .. } => {
                assert_eq!(gguf.as_deref(), Some(Path::new("/etc/verinfer/w.gguf")))
            }
            other => panic!("{other:?}"),
        }
    }
}
