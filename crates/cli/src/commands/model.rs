//! `verinfer model`: the built-in model's identity, or a run of it.

use alloy::primitives::{hex, keccak256, B256};
use anyhow::{anyhow, Result};
use clap::Args;
use verinfer_keeper::mlp::{IntMlp, RUNTIME_SPEC};

/// Print the built-in model's identity (model id, weights hash, runtime spec) or run it.
///
/// Example: verinfer model --input "hello"
#[derive(Args, Debug)]
pub struct ModelCommand {
    /// Run the model on this input and print the output and its hash.
    #[arg(long)]
    input: Option<String>,
}

impl ModelCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let m = IntMlp::default_model();
        println!("model id        {}", m.model_id());
        println!("weights hash    {}", m.weights_hash());
        println!("runtime spec    {RUNTIME_SPEC}");
        println!("spec hash       {}", IntMlp::runtime_spec_hash());
        if let Some(input) = self.input {
            let out = m.infer(input.as_bytes());
            println!("output          0x{}", hex::encode(&out));
            println!("output hash     {}", keccak256(&out));
        }
        Ok(())
    }
}

/// Resolves a `--model` argument: `builtin` (the built-in model's id) or a bytes32 model id.
pub fn model_id(model: &str) -> Result<B256> {
    if model == "builtin" {
        return Ok(IntMlp::default_model().model_id());
    }
    model
        .parse()
        .map_err(|_| anyhow!("--model: `{model}` is neither `builtin` nor a bytes32 model id"))
}

/// A human-readable form of `output`: the built-in model's prediction when `model` is `builtin`, the
/// text when the bytes are UTF-8, else hex.
pub fn describe_output(model: &str, output: &[u8]) -> String {
    if model == "builtin" {
        if let Some(p) = IntMlp::decode(output) {
            return p.to_string();
        }
    }
    match std::str::from_utf8(output) {
        Ok(text) if !text.is_empty() => format!("{text:?}"),
        _ => format!("0x{}", hex::encode(output)),
    }
}
