//! The client's typed errors: each names what was being done, and reverts arrive decoded.

use std::path::PathBuf;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::transports::TransportError;
use verinfer_bindings::decode::DecodedRevert;
// ETH and the token both have 18 decimals: the same exact, trimmed decimal form.
use verinfer_bindings::units::format_tokens;

/// What can go wrong talking to a deployed suite.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The RPC URL does not parse.
    #[error("invalid RPC URL `{url}`")]
    InvalidUrl {
        /// What was given.
        url: String,
    },
    /// The node could not be reached at all.
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// The RPC URL.
        url: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The node refused or failed a request.
    #[error("{what}: RPC error: {source}")]
    Rpc {
        /// What was being done.
        what: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// A contract view failed (transport error, revert or undecodable return data).
    #[error("{what}: {source}")]
    View {
        /// What was being read.
        what: String,
        /// alloy's contract error.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// The deployment manifest cannot be used.
    #[error(transparent)]
    Manifest(#[from] verinfer_deploy::ManifestError),
    /// The manifest belongs to another chain than the node's.
    #[error("{path} is for chain {manifest}, but the node is chain {node}")]
    WrongChain {
        /// The manifest.
        path: PathBuf,
        /// Its chain id.
        manifest: u64,
        /// The node's chain id.
        node: u64,
    },
    /// The transaction would revert (found by `eth_call` before anything was sent).
    #[error("{what} would revert: {reason}")]
    WouldRevert {
        /// What was being done.
        what: String,
        /// The decoded error, e.g. `InferenceRegistry::FeeOutOfRange(fee = 0 VINF, ..)` and its hint.
        reason: Box<DecodedRevert>,
        /// The raw revert data.
        data: Bytes,
    },
    /// The sender cannot pay for the transaction: its ETH balance is below gas limit x max fee
    /// (+ value). Reported at once instead of waiting for a transaction the node will never mine.
    #[error("{what}: {address} has {} ETH, needs about {} ETH for gas: fund it first", format_tokens(*balance), format_tokens(*needed))]
    InsufficientFunds {
        /// What was being done.
        what: String,
        /// The sender.
        address: Address,
        /// Its balance, wei.
        balance: U256,
        /// What the transaction needs, wei (gas limit x max fee per gas + value).
        needed: U256,
    },
    /// The transaction was mined but reverted.
    #[error("{what}: transaction {tx} reverted")]
    Reverted {
        /// What was being done.
        what: String,
        /// The transaction.
        tx: B256,
    },
    /// No receipt arrived before the deadline (the transaction may still be pending).
    #[error("{what}: no receipt for {tx} within {secs} s (it may still be pending)")]
    ReceiptTimeout {
        /// What was being done.
        what: String,
        /// The transaction.
        tx: B256,
        /// The deadline, seconds.
        secs: u64,
    },
    /// A receipt lacks the event the call must emit.
    #[error("{what}: no {event} event in {tx}")]
    MissingEvent {
        /// What was being done.
        what: String,
        /// The event.
        event: &'static str,
        /// The transaction.
        tx: B256,
    },
    /// The request has no result to fetch the output of (yet, or ever).
    #[error("request {id} has no result (status {status})")]
    NoResult {
        /// The request.
        id: U256,
        /// Its status.
        status: verinfer_bindings::types::RequestStatus,
    },
    /// Nobody could produce bytes matching the result's output hash.
    #[error(transparent)]
    Output(#[from] crate::outputs::OutputUnavailable),
    /// A request ended without a result.
    #[error("request {id} expired without a result")]
    Expired {
        /// The request.
        id: U256,
    },
    /// Waiting for a request's result took longer than allowed.
    #[error("no result for request {id} within {secs} s (status {status})")]
    WaitTimeout {
        /// The request.
        id: U256,
        /// The wait, seconds.
        secs: u64,
        /// Its status when the wait ended.
        status: verinfer_bindings::types::RequestStatus,
    },
    /// The named consumer has no code: the registry calls it back, so it must be a contract.
    #[error("consumer {consumer} is not a contract (no code at that address)")]
    ConsumerNotContract {
        /// The address given.
        consumer: alloy::primitives::Address,
    },
    /// The callback gas limit is outside the registry's bounds.
    #[error("callback gas limit {gas_limit} is outside [{min}, {max}]")]
    CallbackGasOutOfRange {
        /// The limit given.
        gas_limit: u64,
        /// The smallest accepted.
        min: u64,
        /// The largest accepted (`deliveryParams().maxCallbackGas`).
        max: u64,
    },
    /// The callback fee does not cover the callback at the registry's callback gas price.
    #[error("callback fee {fee} is below the required {required} (callbackFeeFor)")]
    CallbackFeeTooLow {
        /// The fee given.
        fee: U256,
        /// `callbackFeeFor(gasLimit, early)`.
        required: U256,
    },
    /// Watching a request did not reach its end before the deadline.
    #[error("request {id} did not settle within {secs} s")]
    WatchTimeout {
        /// The request.
        id: U256,
        /// The deadline, seconds.
        secs: u64,
    },
    /// The chain returned a value the contracts cannot produce (e.g. an unknown enum value).
    #[error("{what}: unexpected value {value} from the chain")]
    Unexpected {
        /// What was being read.
        what: String,
        /// The value.
        value: String,
    },
}

impl ClientError {
    /// An RPC error while doing `what`.
    pub fn rpc(what: impl Into<String>) -> impl FnOnce(TransportError) -> Self {
        let what = what.into();
        move |source| Self::Rpc { what, source }
    }

    /// A failed view while reading `what`.
    pub fn view(what: impl Into<String>) -> impl FnOnce(alloy::contract::Error) -> Self {
        let what = what.into();
        move |source| Self::View {
            what,
            source: Box::new(source),
        }
    }
}
