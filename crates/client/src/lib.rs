//! Client library of verinfer: what a user, an operator or a tool does against a deployed suite,
//! over alloy's filler stack (no durable journal: that is the keeper's transaction manager).
//!
//! - [`Client`]: connect as a sender (or read-only), send calls with decoded reverts and receipts
//!   polled against a deadline;
//! - [`requests`]: submit an inference request (with or without a consumer contract to call back)
//!   and wait for its result;
//! - [`status`]: a request's status changes as a stream (status, result, callback state);
//! - [`staking`]: register an operator, delegate, unstake, rotate the hot key, serve a model, re-sync
//!   stale stake;
//! - [`governance`]: proposals as actions (the `--action` syntax), propose, vote, queue, execute,
//!   status;
//! - [`outputs`]: the bytes behind an output hash, fetched from keepers and verified, with fallback;
//! - [`logs`]: the suite's event history read in bounded `eth_getLogs` ranges;
//! - [`rpc`]: the HTTP provider every verinfer tool builds, retrying transient failures (alloy's
//!   `RetryBackoffLayer` with a policy over typed errors);
//! - [`error`]: [`ClientError`] and the revert decoder.
//!
//! A dApp's whole path, run as a test against a local serving network (docs/client.md): connect,
//! submit a request naming a consumer contract, watch its status, fetch its output and verify it
//! against the on-chain hash, decode it.
//!
//! ```
//! use std::time::Duration;
//! use futures::StreamExt;
//! use verinfer_client::requests::Callback;
//! use verinfer_client::Client;
//! use verinfer_bindings::units::tokens;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A devnet serving the built-in digits classifier: anvil, the suite, operators, keepers.
//! # let root = tempfile::tempdir()?;
//! # let devnet = verinfer_devnet::Devnet::start(verinfer_devnet::DevnetConfig::serving_in(root.path()))?;
//! # let (d, _operators, keepers) = devnet.serving().await?;
//! # let consumer = devnet.deploy_consumers(&d).await?.recorder;
//! # let (rpc_url, key, manifest, model) =
//! #     (devnet.url(), devnet.dev_signer(0)?, d.manifest_path.clone(), d.model_id);
//! // Connect as the paying account, with the suite's deployment manifest.
//! let client = Client::connect(rpc_url, key, Some(&manifest)).await?;
//!
//! // 64 pixels for the digits classifier; fee 1 token; answerable for 5 minutes; the consumer
//! // contract is called back with 100,000 gas once the result is final.
//! let input = [0u8; 64];
//! let sent = client
//!     .submit_request_with_callback(model, &input, tokens(1), 300, Callback::new(consumer, 100_000))
//!     .await?;
//!
//! // Status changes until quorum: Open (maybe), then Quorum.
//! let mut updates = Box::pin(
//!     client
//!         .watch_request(sent.id, Duration::from_millis(200), Duration::from_secs(60))
//!         .into_stream(),
//! );
//! while let Some(update) = updates.next().await {
//!     let update = update?;
//!     println!("request {}: {} (callback {})", update.id, update.status, update.callback);
//!     if update.status == verinfer_bindings::types::RequestStatus::Quorum {
//!         break;
//!     }
//! }
//!
//! // The bytes behind the result's hash, from the chain or the answering operators' keepers, verified.
//! let output = client.result_output(sent.id, Duration::from_secs(5)).await?;
//! assert_eq!(alloy::primitives::keccak256(&output.bytes), output.hash);
//! assert_eq!(output.bytes.len(), 10); // the int8 logits of the 10 digit classes
//! // Decode: the class with the largest logit (lowest index on ties, as `ClassifierConsumer`).
//! let class = (0..10).rev().max_by_key(|&i| output.bytes[i] as i8).unwrap_or_default();
//! println!("class {class}, verified against outputHash {}", output.hash);
//! # keepers.stop().await;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod governance;
pub mod logs;
pub mod outputs;
pub mod requests;
pub mod rpc;
pub mod staking;
pub mod status;

pub use client::{Client, SendOptions};
pub use error::ClientError;
