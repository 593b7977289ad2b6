//! `verinfer request`: submit an inference request and wait for its result.

use std::time::Duration;

use alloy::primitives::keccak256;
use alloy::primitives::{Address, U256};
use anyhow::Result;
use clap::{Args, Subcommand};
use verinfer_bindings::types::{CallbackState, RequestStatus};
use verinfer_bindings::units::parse_amount;
use verinfer_client::outputs::OutputSource;
use verinfer_client::requests::{Callback, Outcome};
use verinfer_client::Client;
use verinfer_mlp::IntMlp;

use super::model::{describe_output, model_id, parse_input};
use crate::args::ChainArgs;
use crate::output::{addr, amount, OutputArgs};

/// Submit an inference request and wait for its result (or `request status <id>`).
///
/// Example: verinfer request --rpc-url http://127.0.0.1:8545 --input @digit.bin --fee 1
/// With a consumer contract called back with the result:
///   verinfer request --input @digit.bin --consumer 0xConsumer --callback-gas 100000
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RequestCommand {
    #[command(subcommand)]
    sub: Option<RequestSub>,
    #[command(flatten)]
    chain: ChainArgs,
    /// `builtin` or a bytes32 model id.
    #[arg(long, default_value = "builtin")]
    model: String,
    /// Input (sent inline as hex): `0x`-hex, `@file` (raw bytes) or text.
    #[arg(long, required = true)]
    input: Option<String>,
    /// A consumer contract (`IInferenceConsumer`) the registry calls back with the result
    /// (`requestInferenceWithCallback`); a keeper delivers it for the callback fee.
    #[arg(long)]
    consumer: Option<Address>,
    /// Gas forwarded, exactly, to the consumer's callback.
    #[arg(long, default_value_t = 100_000, requires = "consumer")]
    callback_gas: u32,
    /// Also call the consumer back, provisionally, at quorum (the final callback follows).
    #[arg(long, requires = "consumer")]
    early: bool,
    /// Callback fee in tokens (default: the smallest the registry accepts, `callbackFeeFor`).
    #[arg(long, value_parser = parse_amount, requires = "consumer")]
    callback_fee: Option<U256>,
    /// Fee in tokens: a decimal (`1`, `0.01`) or with a unit (`0.5ether`, `1000gwei`, `10wei`).
    #[arg(long, default_value = "1", value_parser = parse_amount)]
    fee: U256,
    /// Seconds until the answer deadline.
    #[arg(long, default_value_t = 600)]
    deadline_secs: u64,
    /// Seconds to wait for the result (0: don't wait).
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
    #[command(flatten)]
    out: OutputArgs,
}

/// `verinfer request` subcommands.
#[derive(Subcommand, Debug)]
pub enum RequestSub {
    /// Print a request's status, its output verified against the on-chain hash, and its callback state.
    ///
    /// Example: verinfer request status 7 --json
    Status(StatusCommand),
}

/// `verinfer request status <id>`.
#[derive(Args, Debug)]
pub struct StatusCommand {
    /// The request id.
    id: U256,
    #[command(flatten)]
    rpc: crate::args::RpcArgs,
    /// `builtin` or a bytes32 model id (how the output is decoded).
    #[arg(long, default_value = "builtin")]
    model: String,
}

/// The callback part of a request's JSON (`null` without a consumer).
async fn callback_json(client: &Client, id: U256) -> Result<serde_json::Value> {
    let (state, d) = client.delivery_view(id).await?;
    if state == CallbackState::None {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::json!({
        "consumer": addr(d.consumer),
        "gasLimit": d.gasLimit,
        "early": d.early,
        "earlyDone": d.earlyDone,
        "state": state.name(),
        "feeUnpaid": amount(d.callbackFee),
    }))
}

fn callback_line(cb: &serde_json::Value) -> Option<String> {
    (!cb.is_null()).then(|| {
        format!(
            "  callback      {} to {} ({} gas{})",
            cb["state"].as_str().unwrap_or("?"),
            cb["consumer"].as_str().unwrap_or("?"),
            cb["gasLimit"],
            if cb["early"].as_bool() == Some(true) {
                ", early"
            } else {
                ""
            }
        )
    })
}

impl StatusCommand {
    async fn execute(self, out: OutputArgs) -> Result<()> {
        let client = self.rpc.connect_read_only().await?;
        let id = self.id;
        let (status, view) = client.request_view(id).await?;
        let callback = callback_json(&client, id).await?;
        let output = if verinfer_bindings::is_concrete_output(view.output)
            && matches!(status, RequestStatus::Quorum | RequestStatus::Finalized)
        {
            Some(client.result_output(id, Duration::from_secs(10)).await?)
        } else {
            None
        };
        if out.json {
            let mut v = serde_json::json!({
                "request": id.to_string(),
                "status": status.name(),
                "outputHash": view.output,
                "windowEnd": view.windowEnd.to_string(),
                "callback": callback,
            });
            if let Some(out) = &output {
                v["output"] = serde_json::json!(alloy::primitives::Bytes::from(out.bytes.clone()));
                v["decoded"] = serde_json::json!(describe_output(&self.model, &out.bytes));
                v["verified"] = serde_json::json!(true);
            }
            println!("{v}");
            return Ok(());
        }
        println!(
            "request {id}: {status} (challenge window ends at {})",
            view.windowEnd
        );
        if let Some(out) = &output {
            println!(
                "  output        {}",
                describe_output(&self.model, &out.bytes)
            );
            println!("  verified against outputHash {}", out.hash);
        }
        if let Some(line) = callback_line(&callback) {
            println!("{line}");
        }
        Ok(())
    }
}

impl RequestCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        if let Some(RequestSub::Status(s)) = self.sub {
            return s.execute(self.out).await;
        }
        let model = model_id(&self.model)?;
        let input = &parse_input(self.input.as_deref().unwrap_or_default())?;
        // The built-in model is run here first: an input it refuses is never sent.
        let expected = if self.model == "builtin" {
            Some(keccak256(IntMlp::builtin()?.infer(input)?))
        } else {
            None
        };
        let client = self.chain.connect().await?;
        let done = match self.consumer {
            Some(consumer) => {
                let callback = Callback {
                    consumer,
                    gas_limit: self.callback_gas,
                    early: self.early,
                    fee: self.callback_fee,
                };
                client
                    .submit_request_with_callback(
                        model,
                        input,
                        self.fee,
                        self.deadline_secs,
                        callback,
                    )
                    .await?
            }
            None => {
                client
                    .submit_request(model, input, self.fee, self.deadline_secs)
                    .await?
            }
        };
        let id = done.id;
        let json = self.out.json;
        let say = |line: String| self.out.line(line);
        say(format!(
            "request {id} submitted (tx {}, gas {})",
            done.receipt.transaction_hash, done.receipt.gas_used
        ));
        if let Some(hash) = expected {
            say(format!("expected (local built-in run) output hash {hash}"));
        }
        if self.wait_secs == 0 {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"request": id.to_string(), "submitted": done.receipt.transaction_hash})
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
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"request": id.to_string(), "status": "Disputed", "dispute": v.disputeId.to_string(), "callback": callback_json(&client, id).await?})
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
        let callback = callback_json(&client, id).await?;
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "request": id.to_string(),
                    "status": status,
                    "windowEnd": view.windowEnd.to_string(),
                    "outputHash": out.hash,
                    "output": alloy::primitives::Bytes::from(out.bytes.clone()),
                    "decoded": decoded,
                    "verified": true,
                    "source": source_json,
                    "callback": callback,
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
        if let Some(line) = callback_line(&callback) {
            println!("{line}");
        }
        Ok(())
    }
}
