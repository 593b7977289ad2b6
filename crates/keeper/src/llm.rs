//! The identity of a language model served through an OpenAI-compatible server.
//!
//! An LLM is registered like every model, `modelId = keccak256(abi.encode(weightsHash,
//! runtimeSpecHash))`, with:
//!
//! * `weightsHash = keccak256(GGUF file bytes)`: the exact quantized weights the server loads;
//! * `runtimeSpecHash = keccak256(runtime spec)`: a canonical string naming the server, its version,
//!   the API and every decoding parameter that changes the text ([`LlmSpec::runtime_spec`]).
//!
//! A keeper configured with the GGUF file recomputes the id and refuses to start when it is not the
//! configured one, so an operator cannot serve other weights or other decoding under a model's name;
//! a client recomputes it from the file it expects ([`LlmSpec::model_id`]; `verinfer bench llm`
//! prints it).

use std::io::Read;
use std::path::{Path, PathBuf};

use alloy::primitives::{keccak256, utils::Keccak256, B256};

use verinfer_mlp::model_id;

/// The server verinfer pins for LLMs (`script/setup.sh --llm` installs exactly this version).
pub const LLAMA_CPP_PYTHON: &str = "llama-cpp-python@0.3.36";

/// Tokens the server evaluates per batch (llama-cpp-python's `--n_batch` and `--n_ubatch`): one.
///
/// llama-cpp-python keeps the previous request's tokens and evaluates only the part of a new prompt
/// after their longest common prefix, so the same prompt is evaluated in a different batch shape
/// depending on the request before it. llama.cpp's CPU kernels are not batch-invariant on every
/// CPU: on an AMD EPYC, one server with the default batch of 512 completed "Name three primary
/// colors." two ways, depending on whether the request before was the same prompt, and keepers
/// sharing it disagreed. Evaluated one token per batch, every token is computed the same way
/// whatever was cached, so the text depends on the prompt alone. It is part of the runtime spec.
pub const EVAL_BATCH: u32 = 1;

/// Default cap on generated tokens.
pub const DEFAULT_MAX_TOKENS: u32 = 48;

/// How a language model is run: everything that, with the weights, fixes its output text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmSpec {
    /// Server and version, e.g. [`LLAMA_CPP_PYTHON`].
    pub server: String,
    /// `true`: `/v1/chat/completions` with the model's chat template; `false`: `/v1/completions`.
    pub chat: bool,
    /// Cap on generated tokens.
    pub max_tokens: u32,
    /// Sampler seed sent with every request (greedy decoding does not use it; it is pinned anyway).
    pub seed: u64,
}

impl Default for LlmSpec {
    fn default() -> Self {
        Self {
            server: LLAMA_CPP_PYTHON.to_string(),
            chat: true,
            max_tokens: DEFAULT_MAX_TOKENS,
            seed: 0,
        }
    }
}

impl LlmSpec {
    /// The canonical runtime spec string, e.g.
    /// `verinfer-llm/v1;server=llama-cpp-python@0.3.36;api=chat;eval=n_batch=1,n_ubatch=1;decoding=greedy(temperature=0,top_k=1);seed=0;max_tokens=48`
    /// (`eval`: [`EVAL_BATCH`]).
    pub fn runtime_spec(&self) -> String {
        format!(
            "verinfer-llm/v1;server={};api={};eval=n_batch={EVAL_BATCH},n_ubatch={EVAL_BATCH};decoding=greedy(temperature=0,top_k=1);seed={};max_tokens={}",
            self.server,
            if self.chat { "chat" } else { "completions" },
            self.seed,
            self.max_tokens
        )
    }

    /// `keccak256(runtime_spec())`.
    pub fn runtime_spec_hash(&self) -> B256 {
        keccak256(self.runtime_spec().as_bytes())
    }

    /// The model id of the weights with hash `weights_hash` run this way.
    pub fn model_id(&self, weights_hash: B256) -> B256 {
        model_id(weights_hash, self.runtime_spec_hash())
    }
}

/// A GGUF file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("model file {path}: {source}")]
pub struct GgufError {
    /// The file.
    pub path: PathBuf,
    /// The I/O failure.
    #[source]
    pub source: std::io::Error,
}

/// `keccak256` of a (GGUF) weights file, streamed: a 100 MB file is never held in memory.
pub fn weights_hash(path: &Path) -> Result<B256, GgufError> {
    let err = |source| GgufError {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(err)?;
    let mut hasher = Keccak256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_hash_streams_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        // Larger than the read buffer, so more than one chunk is hashed.
        let bytes: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(weights_hash(&path).unwrap(), keccak256(&bytes));
        let missing = weights_hash(&dir.path().join("nope.gguf")).unwrap_err();
        assert!(missing.to_string().contains("nope.gguf"), "{missing}");
    }

    #[test]
    fn every_decoding_parameter_changes_the_model_id() {
        let w = B256::repeat_byte(7);
        let base = LlmSpec::default();
        let ids = [
            base.model_id(w),
            LlmSpec {
                max_tokens: base.max_tokens + 1,
                ..base.clone()
            }
            .model_id(w),
            LlmSpec {
                chat: false,
                ..base.clone()
            }
            .model_id(w),
            LlmSpec {
                seed: 1,
                ..base.clone()
            }
            .model_id(w),
            LlmSpec {
                server: "llama-cpp-python@0.3.35".into(),
                ..base.clone()
            }
            .model_id(w),
            base.model_id(B256::repeat_byte(8)),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(
            base.runtime_spec(),
            "verinfer-llm/v1;server=llama-cpp-python@0.3.36;api=chat;eval=n_batch=1,n_ubatch=1;decoding=greedy(temperature=0,top_k=1);seed=0;max_tokens=48"
        );
    }
}
