//! [`DevnetConfig`]: everything a devnet run is parameterised by, and [`Progress`], how it tells its
//! caller what it is doing (the library prints nothing itself).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use verinfer_bindings::types::VerificationMode;
use verinfer_bindings::units::{tokens, TOKEN};
use verinfer_keeper::registry::ModelParams;

use crate::anvil::AnvilOptions;
use crate::error::DevnetError;

/// What a devnet phase reports while it runs, for a caller that shows progress.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A phase starts (`==> deploying the suite`).
    Phase(String),
    /// A detail of the current phase (a contract address, an operator).
    Detail(String),
    /// A live status line that replaces the previous one (requests sent, finalized so far).
    Status(String),
    /// The live status line is complete.
    StatusDone,
}

/// Receives [`Progress`]; the default drops it.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// The registered model's registry parameters (the model itself: [`DevnetConfig::model_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelConfig {
    /// Operators assigned per request.
    pub k: u8,
    /// Matching answers for quorum.
    pub q: u8,
    /// Challenge window, seconds.
    pub challenge_window: u32,
    /// Smallest operator stake, wei.
    pub min_stake: U256,
    /// Challenge bond, wei.
    pub challenge_bond: U256,
    /// Smallest fee, wei.
    pub min_fee: U256,
}

impl ModelConfig {
    /// The devnet's model: `k = 3`, `q = 2`, a 600 s window, 1,000 tokens of minimum stake, a
    /// 10-token bond and a 0.01-token minimum fee.
    pub fn devnet() -> Self {
        Self {
            k: 3,
            q: 2,
            challenge_window: 600,
            min_stake: tokens(1_000),
            challenge_bond: tokens(10),
            min_fee: U256::from(TOKEN / 100),
        }
    }

    /// The keeper bench's model: the devnet's with `k = q = 1`, so every request is one attestation.
    pub fn single() -> Self {
        Self {
            k: 1,
            q: 1,
            ..Self::devnet()
        }
    }

    /// The registry's `ModelParams` (deterministic verification).
    pub fn params(&self) -> ModelParams {
        ModelParams {
            mode: VerificationMode::Deterministic.into(),
            k: self.k,
            q: self.q,
            challengeWindow: self.challenge_window,
            minStake: self.min_stake,
            challengeBond: self.challenge_bond,
            minFee: self.min_fee,
        }
    }
}

/// Parameters of a devnet run.
#[derive(Clone)]
pub struct DevnetConfig {
    /// Operators (3..=8): stakes `64,000 >> i` tokens (at least 2,000); the last one never starts its
    /// keeper, and operator 1 equivocates when there are more operators than the model's `k`
    /// ([`Behaviour::of`](crate::operators::Behaviour::of)).
    pub operators: usize,
    /// Inference requests of the traffic phase.
    pub requests: usize,
    /// Repository root: the manifest is written to `<root>/deployments/<chainId>.json`.
    pub root: PathBuf,
    /// How anvil is started.
    pub anvil: AnvilOptions,
    /// Longest wait for the traffic phase's results.
    pub timeout: Duration,
    /// Longest wait for finalization after the time warp.
    pub finalize_timeout: Duration,
    /// The registered model's parameters.
    pub model: ModelConfig,
    /// The integer MLP file registered and served; `None`: the built-in digits classifier (the
    /// compiled-in copy of `models/digits/digits.vimlp`).
    pub model_file: Option<PathBuf>,
    /// The labelled test split the traffic draws its inputs from (`label,p0,...` CSV); `None`: the
    /// compiled-in digits test split (`models/digits/test-split.csv`).
    pub test_split: Option<PathBuf>,
    /// The keeper killed and restarted halfway through the traffic.
    pub chaos_keeper: usize,
    /// Keepers' journals; default a directory under the system's temporary directory, unique to the
    /// process and the anvil port, removed when the report is made.
    pub data_dir: Option<PathBuf>,
    /// The real LLM (`verinfer devnet --llm`): registered and served next to the classifier, and
    /// prompted after the traffic phase. `None`: the classifier only (the fast default).
    pub llm: Option<LlmDevnet>,
    /// Where [`Progress`] goes.
    pub progress: ProgressSink,
}

/// The LLM part of a devnet run (`docs/models.md`, "Language models").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmDevnet {
    /// Prompts sent (from `models/smollm2/prompts.txt`, 1..=50).
    pub prompts: usize,
    /// How the model is run (part of its id).
    pub spec: verinfer_keeper::llm::LlmSpec,
    /// The checkout whose `.toolchain/llm-venv` holds the server and the model; `None`: the
    /// devnet's [`root`](DevnetConfig::root).
    pub install_root: Option<PathBuf>,
}

impl Default for LlmDevnet {
    fn default() -> Self {
        Self {
            prompts: 4,
            spec: verinfer_keeper::llm::LlmSpec {
                max_tokens: 32,
                ..Default::default()
            },
            install_root: None,
        }
    }
}

impl std::fmt::Debug for DevnetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevnetConfig")
            .field("operators", &self.operators)
            .field("requests", &self.requests)
            .field("root", &self.root)
            .field("anvil", &self.anvil)
            .field("timeout", &self.timeout)
            .field("finalize_timeout", &self.finalize_timeout)
            .field("model", &self.model)
            .field("model_file", &self.model_file)
            .field("test_split", &self.test_split)
            .field("chaos_keeper", &self.chaos_keeper)
            .field("data_dir", &self.data_dir)
            .field("llm", &self.llm)
            .finish_non_exhaustive()
    }
}

impl Default for DevnetConfig {
    /// `verinfer devnet`'s defaults: 5 operators, 24 requests, 240 s for the traffic, root `.`.
    fn default() -> Self {
        Self {
            operators: 5,
            requests: 24,
            root: PathBuf::from("."),
            anvil: AnvilOptions::default(),
            timeout: Duration::from_secs(240),
            finalize_timeout: Duration::from_secs(60),
            model: ModelConfig::devnet(),
            model_file: None,
            test_split: None,
            chaos_keeper: 2,
            data_dir: None,
            llm: None,
            progress: Arc::new(|_| {}),
        }
    }
}

impl DevnetConfig {
    /// A small network for a client's own requests (no traffic phase): 4 operators, every file under
    /// `root` (manifest in `root/deployments`, keeper journals in `root/keepers`). With
    /// [`Devnet::serving`](crate::Devnet::serving).
    pub fn serving_in(root: &std::path::Path) -> Self {
        Self {
            operators: 4,
            requests: 0,
            root: root.to_path_buf(),
            data_dir: Some(root.join("keepers")),
            ..Self::default()
        }
    }

    /// With `progress` receiving what the phases report.
    pub fn with_progress(mut self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Arc::new(progress);
        self
    }

    /// Checks the ranges: 3..=8 operators, 1..=50 LLM prompts.
    pub fn validate(&self) -> Result<(), DevnetError> {
        if let Some(llm) = self.llm.as_ref().filter(|l| !(1..=50).contains(&l.prompts)) {
            return Err(DevnetError::Config {
                field: "--llm-prompts",
                value: llm.prompts,
                allowed: "1..=50",
            });
        }
        if !(3..=8).contains(&self.operators) {
            return Err(DevnetError::Config {
                field: "--operators",
                value: self.operators,
                allowed: "3..=8",
            });
        }
        Ok(())
    }

    /// The model to register and serve: [`Self::model_file`] or the built-in digits classifier.
    pub fn load_model(&self) -> Result<verinfer_mlp::IntMlp, DevnetError> {
        use verinfer_mlp::IntMlp;
        Ok(match &self.model_file {
            Some(path) => IntMlp::load(path)?,
            None => IntMlp::builtin()?,
        })
    }

    /// The test split traffic inputs come from: [`Self::test_split`] or the digits test split.
    pub fn load_test_split(&self) -> Result<verinfer_mlp::dataset::TestSplit, DevnetError> {
        use verinfer_mlp::dataset::TestSplit;
        Ok(match &self.test_split {
            Some(path) => TestSplit::load(path)?,
            None => TestSplit::digits()?,
        })
    }

    /// Reports `p` to the progress sink.
    pub(crate) fn say(&self, p: Progress) {
        (self.progress)(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_count_is_checked() {
        for (operators, ok) in [(2, false), (3, true), (8, true), (9, false)] {
            let c = DevnetConfig {
                operators,
                ..DevnetConfig::default()
            };
            assert_eq!(c.validate().is_ok(), ok, "{operators} operators");
        }
        let err = DevnetConfig {
            operators: 9,
            ..DevnetConfig::default()
        }
        .validate()
        .expect_err("nine operators are too many");
        assert_eq!(err.to_string(), "--operators must be in 3..=8, got 9");
    }
}
