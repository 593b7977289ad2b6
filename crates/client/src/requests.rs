//! Inference requests from the client's side: submit one, then wait for its result.

use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Uint, B256, U256};
use alloy::rpc::types::TransactionReceipt;
use verinfer_bindings::inference_registry::IInferenceRegistry::RequestView;
use verinfer_bindings::types::RequestStatus;
use verinfer_bindings::InferenceRegistry;

use crate::client::{first_event, Client};
use crate::error::ClientError;

/// The inline input URI of `input`: `0x` followed by its hex (what keepers fetch without a network).
///
/// ```
/// assert_eq!(verinfer_client::requests::inline_uri(b"hi"), "0x6869");
/// ```
pub fn inline_uri(input: &[u8]) -> String {
    format!("0x{}", alloy::primitives::hex::encode(input))
}

/// A request the registry accepted.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Its id.
    pub id: U256,
    /// The `requestInference` receipt.
    pub receipt: TransactionReceipt,
}

/// How a wait for a result ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Quorum (or an optimistic answer) reached, or finalized: the output hash stands unless a
    /// challenge overturns it inside the window.
    Result(RequestView),
    /// A dispute is open.
    Disputed(RequestView),
}

impl Client {
    /// Approves `fee` and requests inference of `model` on `input` (sent inline), answerable until
    /// `deadline_secs` after the latest block.
    pub async fn submit_request(
        &self,
        model: B256,
        input: &[u8],
        fee: U256,
        deadline_secs: u64,
    ) -> Result<Submitted, ClientError> {
        let registry = self.contract("InferenceRegistry")?;
        self.approve(registry, fee).await?;
        let now = self.chain_time().await?;
        let call = InferenceRegistry::requestInferenceCall {
            modelId: model,
            inputHash: keccak256(input),
            inputURI: inline_uri(input),
            fee,
            deadline: Uint::from(now + deadline_secs),
        };
        let receipt = self.send("requestInference", registry, &call).await?;
        let id = first_event::<InferenceRegistry::RequestCreated>("requestInference", &receipt)?
            .requestId;
        Ok(Submitted { id, receipt })
    }

    /// The registry's view of request `id`, with its status decoded.
    pub async fn request_view(
        &self,
        id: U256,
    ) -> Result<(RequestStatus, RequestView), ClientError> {
        let registry = InferenceRegistry::new(self.contract("InferenceRegistry")?, self.provider());
        let view = registry
            .request(id)
            .call()
            .await
            .map_err(ClientError::view(format!("reading request {id}")))?;
        let status = RequestStatus::of(view.status).ok_or_else(|| ClientError::Unexpected {
            what: format!("status of request {id}"),
            value: view.status.to_string(),
        })?;
        Ok((status, view))
    }

    /// Polls request `id` until it has a result or a dispute, it expires, or `timeout` passes.
    pub async fn wait_result(&self, id: U256, timeout: Duration) -> Result<Outcome, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            let (status, view) = self.request_view(id).await?;
            match status {
                RequestStatus::Quorum | RequestStatus::Finalized => {
                    return Ok(Outcome::Result(view))
                }
                RequestStatus::Disputed => return Ok(Outcome::Disputed(view)),
                RequestStatus::Expired => return Err(ClientError::Expired { id }),
                RequestStatus::None | RequestStatus::Open => {}
            }
            if Instant::now() >= deadline {
                return Err(ClientError::WaitTimeout {
                    id,
                    secs: timeout.as_secs(),
                    status,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
