//! `--json`: a command that prints a result prints it, with `--json`, as one JSON object on stdout
//! instead of its human lines (logs stay on stderr). The shapes share these conventions: keys in
//! camelCase, addresses checksummed, hashes `0x`-hex, amounts as [`amount`] (decimal wei strings
//! plus the token), transactions as [`receipt`].

use std::collections::BTreeMap;

use alloy::primitives::{utils::format_ether, Address, U256};
use alloy::rpc::types::TransactionReceipt;
use clap::Args;
use serde_json::{json, Value};
use verinfer_bindings::units::{format_tokens, SYMBOL};

/// The `--json` flag of a command that prints a result.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct OutputArgs {
    /// Print the result as one JSON object on stdout (logs stay on stderr).
    #[arg(long, global = true)]
    pub json: bool,
}

impl OutputArgs {
    /// Prints a human line, unless `--json`.
    pub fn line(&self, line: impl std::fmt::Display) {
        if !self.json {
            println!("{line}");
        }
    }

    /// Prints the result object, with `--json` only.
    pub fn result(&self, value: &Value) {
        if self.json {
            println!("{value}");
        }
    }
}

/// An address, checksummed (EIP-55; alloy's serde writes lowercase).
pub fn addr(a: Address) -> Value {
    Value::String(a.to_checksum(None))
}

/// Addresses, checksummed.
pub fn addrs<'a>(list: impl IntoIterator<Item = &'a Address>) -> Value {
    list.into_iter().map(|a| addr(*a)).collect()
}

/// Contract names to checksummed addresses (a deployment's `contracts`).
pub fn contracts(map: &BTreeMap<String, Address>) -> Value {
    map.iter()
        .map(|(name, a)| (name.clone(), addr(*a)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A token amount: `{"wei": "<decimal>", "tokens": "<decimal>", "symbol": "VINF"}`.
pub fn amount(wei: U256) -> Value {
    json!({"wei": wei.to_string(), "tokens": format_tokens(wei), "symbol": SYMBOL})
}

/// An amount of the chain's native coin: `{"wei": "<decimal>", "ether": "<decimal>", "symbol": "ETH"}`.
pub fn native(wei: U256) -> Value {
    json!({"wei": wei.to_string(), "ether": format_ether(wei), "symbol": "ETH"})
}

/// A mined transaction: `{"tx": "0x..", "block": n, "gasUsed": n}`.
pub fn receipt(r: &TransactionReceipt) -> Value {
    json!({"tx": r.transaction_hash, "block": r.block_number, "gasUsed": r.gas_used})
}
