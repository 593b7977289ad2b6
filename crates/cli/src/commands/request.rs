//! `verinfer request`: submit an inference request and wait for its result.

use std::time::Duration;

use alloy::primitives::keccak256;
use alloy::primitives::U256;
use anyhow::Result;
use clap::Args;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::units::parse_amount as amount;
use verinfer_client::outputs::OutputSource;
use verinfer_client::requests::Outcome;
use verinfer_keeper::mlp::IntMlp;

use super::model::{describe_output, model_id, parse_input};
use crate::args::ChainArgs;

/// Submit an inference request and wait for its result.
///
/// Example: verinfer request --rpc-url http://127.0.0.1:8545 --input @digit.bin --fee 1
#[derive(Args, Debug)]
pub struct RequestCommand {
    #[command(flatten)]
    chain: ChainArgs,
    /// `builtin` or a bytes32 model id.
    #[arg(long, default_value = "builtin")]
    model: String,
    /// Input (sent inline as hex): `0x`-hex, `@file` (raw bytes) or text.
    #[arg(long)]
    input: String,
    /// Fee in tokens: a decimal (`1`, `0.01`) or with a unit (`0.5ether`, `1000gwei`, `10wei`).
    #[arg(long, default_value = "1", value_parser = amount)]
    fee: U256,
    /// Seconds until the answer deadline.
    #[arg(long, default_value_t = 600)]
    deadline_secs: u64,
    /// Seconds to wait for the result (0: don't wait).
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    json: bool,
}

impl RequestCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let model = model_id(&self.model)?;
        let input = &parse_input(&self.input)?;
        // The built-in model is run here first: an input it refuses is never sent.
        let expected = if self.model == "builtin" {
            Some(keccak256(IntMlp::builtin()?.infer(input)?))
        } else {
            None
        };
        let client = self.chain.connect().await?;
        let done = client
            .submit_request(model, input, self.fee, self.deadline_secs)
            .await?;
        let id = done.id;
        let say = |line: String| {
            if !self.json {
                println!("{line}");
            }
        };
        say(format!(
            "request {id} submitted (tx {}, gas {})",
            done.receipt.transaction_hash, done.receipt.gas_used
        ));
        if let Some(hash) = expected {
            say(format!("expected (local built-in run) output hash {hash}"));
        }
        if self.wait_secs == 0 {
            if self.json {
                println!(
                    "{}",
                    serde_json::json!({"request": id, "submitted": done.receipt.transaction_hash})
                );
            }
            return Ok(());
        }
        let view = match client
            .wait_result(id, Duration::from_secs(self.wait_secs))
            .await?
        {
            Outcome::Result(v) => v,
            Outcome::Disputed(v) => {
                say(format!(
                    "request {id} is disputed (dispute {})",
                    v.disputeId
                ));
                if self.json {
                    println!(
                        "{}",
                        serde_json::json!({"request": id, "status": "Disputed", "dispute": v.disputeId})
                    );
                }
                return Ok(());
            }
        };
        let status = RequestStatus::of(view.status).map_or("Unknown", |s| s.name());
        let out = client.result_output(id, Duration::from_secs(10)).await?;
        let (source, source_json) = match &out.source {
            OutputSource::Chain { tx } => {
                (format!("published on chain in {tx}"), format!("chain:{tx}"))
            }
            OutputSource::Keeper { url } => (format!("served by {url}"), url.clone()),
        };
        let decoded = describe_output(&self.model, &out.bytes);
        if self.json {
            println!(
                "{}",
                serde_json::json!({
                    "request": id,
                    "status": status,
                    "windowEnd": view.windowEnd,
                    "outputHash": out.hash,
                    "output": alloy::primitives::Bytes::from(out.bytes.clone()),
                    "decoded": decoded,
                    "verified": true,
                    "source": source_json,
                })
            );
            return Ok(());
        }
        println!(
            "result ({status}, challenge window ends at {}):",
            view.windowEnd
        );
        println!("  output        {decoded}");
        println!("  verified against outputHash {} ({source})", out.hash);
        Ok(())
    }
}
