//! The bytes behind an `outputHash`: fetched from the keepers that answered (`GET
//! /v1/outputs/<outputHash>`), each source checked against the hash, the next one tried when a source
//! is unreachable, does not have the output, serves too much, or serves bytes that do not match.

use std::time::Duration;

use alloy::primitives::{keccak256, B256};

/// The largest output a client accepts from a keeper (16 MiB): LLM text and images fit; a hostile
/// server cannot make the client buffer without bound.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;

/// Why one source did not yield the output.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source could not be reached, or the transfer failed.
    #[error("{url}: unreachable: {source}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The source answered with an error status (404: it has no such output).
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL tried.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The source served more than [`MAX_OUTPUT_BYTES`].
    #[error("{url}: more than {MAX_OUTPUT_BYTES} bytes")]
    TooLarge {
        /// The URL tried.
        url: String,
    },
    /// The source served bytes whose hash is not the output hash: tampered or wrong.
    #[error("{url}: served bytes hashing to {got}, not the output hash")]
    Tampered {
        /// The URL tried.
        url: String,
        /// keccak256 of what it served.
        got: B256,
    },
}

/// No source yielded the output; every attempt is kept, in order.
#[derive(Debug, thiserror::Error)]
#[error("output {hash} is unavailable: {}", describe(.attempts))]
pub struct OutputUnavailable {
    /// The output hash.
    pub hash: B256,
    /// Each failed attempt.
    pub attempts: Vec<SourceError>,
}

fn describe(attempts: &[SourceError]) -> String {
    if attempts.is_empty() {
        return "no source to ask".to_owned();
    }
    attempts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Output bytes that hash to the output hash, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedOutput {
    /// The bytes; `keccak256(bytes) == hash`.
    pub bytes: Vec<u8>,
    /// The output hash they were checked against.
    pub hash: B256,
    /// The URL that served them.
    pub source: String,
}

/// Checks `bytes` against `hash`.
///
/// ```
/// use alloy::primitives::keccak256;
/// use verinfer_client::outputs::verify;
///
/// assert!(verify(b"out", keccak256(b"out")));
/// assert!(!verify(b"tampered", keccak256(b"out")));
/// ```
pub fn verify(bytes: &[u8], hash: B256) -> bool {
    keccak256(bytes) == hash
}

/// The URL of `hash` at a keeper whose outputs API is rooted at `base` (e.g. `http://host:8080`).
pub fn output_url(base: &str, hash: B256) -> String {
    format!("{}/v1/outputs/{hash}", base.trim_end_matches('/'))
}

/// Fetches the output `hash` from the keepers at `bases`, in order, and returns the first copy that
/// verifies. A keeper that is down, lacks the output, serves too much or serves tampered bytes is
/// skipped and recorded.
pub async fn fetch_output(
    hash: B256,
    bases: &[String],
    timeout: Duration,
) -> Result<VerifiedOutput, OutputUnavailable> {
    let mut attempts = Vec::new();
    let http = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(c) => c,
        Err(source) => {
            attempts.push(SourceError::Unreachable {
                url: "(http client)".to_owned(),
                source,
            });
            return Err(OutputUnavailable { hash, attempts });
        }
    };
    for base in bases {
        let url = output_url(base, hash);
        match fetch_one(&http, &url, hash).await {
            Ok(bytes) => {
                return Ok(VerifiedOutput {
                    bytes,
                    hash,
                    source: url,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "output source failed; trying the next");
                attempts.push(e);
            }
        }
    }
    Err(OutputUnavailable { hash, attempts })
}

async fn fetch_one(http: &reqwest::Client, url: &str, hash: B256) -> Result<Vec<u8>, SourceError> {
    let unreachable = |source| SourceError::Unreachable {
        url: url.to_owned(),
        source,
    };
    let mut resp = http.get(url).send().await.map_err(unreachable)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(SourceError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_OUTPUT_BYTES {
            return Err(SourceError::TooLarge {
                url: url.to_owned(),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    let got = keccak256(&bytes);
    if got != hash {
        return Err(SourceError::Tampered {
            url: url.to_owned(),
            got,
        });
    }
    Ok(bytes)
}

/// Where a result's output came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSource {
    /// Published on chain with `deliverOutput` (the `OutputDelivered` event of this transaction).
    Chain {
        /// The transaction that published the bytes.
        tx: B256,
    },
    /// Served by an answering keeper at this URL.
    Keeper {
        /// The URL that served the bytes.
        url: String,
    },
}

/// A request's result with the bytes behind its output hash, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultOutput {
    /// The request.
    pub request: alloy::primitives::U256,
    /// The output hash of the result (`RequestView.output`).
    pub hash: B256,
    /// The bytes; `keccak256(bytes) == hash`.
    pub bytes: Vec<u8>,
    /// Where they came from.
    pub source: OutputSource,
}

impl crate::Client {
    /// The base URL where `operator` serves outputs (`None` if it never published one).
    pub async fn endpoint_of(
        &self,
        operator: alloy::primitives::Address,
    ) -> Result<Option<String>, crate::ClientError> {
        let registry = verinfer_bindings::InferenceRegistry::new(
            self.contract("InferenceRegistry")?,
            self.provider(),
        );
        let url = registry
            .endpointOf(operator)
            .call()
            .await
            .map_err(crate::ClientError::view(format!(
                "reading the endpoint of {operator}"
            )))?;
        Ok((!url.is_empty()).then_some(url))
    }

    /// The bytes behind request `id`'s result, verified against its output hash: from the chain when
    /// someone published them (`OutputDelivered`), else from the keepers of the operators whose answer
    /// is the result, trying each published endpoint until one serves bytes that hash right.
    pub async fn result_output(
        &self,
        id: alloy::primitives::U256,
        timeout: Duration,
    ) -> Result<ResultOutput, crate::ClientError> {
        use alloy::providers::Provider;
        use alloy::sol_types::SolEvent;
        use verinfer_bindings::InferenceRegistry;

        let (status, view) = self.request_view(id).await?;
        let hash = view.output;
        if !verinfer_bindings::is_concrete_output(hash) {
            return Err(crate::ClientError::NoResult { id, status });
        }
        let registry_address = self.contract("InferenceRegistry")?;
        let head = self
            .provider()
            .get_block_number()
            .await
            .map_err(crate::ClientError::rpc("reading the head block"))?;
        let mut from = self.manifest().block;
        while from <= head {
            let to = head.min(from + crate::logs::LOG_RANGE - 1);
            let filter = alloy::rpc::types::Filter::new()
                .address(registry_address)
                .event_signature(InferenceRegistry::OutputDelivered::SIGNATURE_HASH)
                .topic1(B256::from(id))
                .topic2(hash)
                .from_block(from)
                .to_block(to);
            let logs = self
                .provider()
                .get_logs(&filter)
                .await
                .map_err(crate::ClientError::rpc(format!(
                    "reading OutputDelivered of request {id}"
                )))?;
            for log in logs {
                let Ok(ev) = InferenceRegistry::OutputDelivered::decode_log_data(log.data()) else {
                    continue;
                };
                if !ev.output.is_empty() && verify(&ev.output, hash) {
                    return Ok(ResultOutput {
                        request: id,
                        hash,
                        bytes: ev.output.to_vec(),
                        source: OutputSource::Chain {
                            tx: log.transaction_hash.unwrap_or_default(),
                        },
                    });
                }
            }
            from = to + 1;
        }
        let registry = InferenceRegistry::new(registry_address, self.provider());
        let operators =
            registry
                .assignedOperators(id)
                .call()
                .await
                .map_err(crate::ClientError::view(format!(
                    "reading the operators of request {id}"
                )))?;
        let mut bases = Vec::new();
        for op in operators {
            let answer =
                registry
                    .answerOf(id, op)
                    .call()
                    .await
                    .map_err(crate::ClientError::view(format!(
                        "reading the answer of {op}"
                    )))?;
            if answer.answered && answer.outputHash == hash {
                if let Some(url) = self.endpoint_of(op).await? {
                    bases.push(url);
                }
            }
        }
        let got = fetch_output(hash, &bases, timeout).await?;
        Ok(ResultOutput {
            request: id,
            hash,
            bytes: got.bytes,
            source: OutputSource::Keeper { url: got.source },
        })
    }

    /// Publishes the caller's outputs endpoint (`setEndpoint`); the sender must be the operator's owner.
    pub async fn set_endpoint(
        &self,
        url: &str,
    ) -> Result<alloy::rpc::types::TransactionReceipt, crate::ClientError> {
        let registry = self.contract("InferenceRegistry")?;
        self.send(
            "setEndpoint",
            registry,
            &verinfer_bindings::InferenceRegistry::setEndpointCall {
                url: url.to_owned(),
            },
        )
        .await
    }
}
