//! Inference requests from the client's side: submit one, then wait for its result.

use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Uint, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use verinfer_bindings::inference_registry::IInferenceRegistry::{
    CallbackSpec, DeliveryView, RequestView,
};
use verinfer_bindings::types::{CallbackState, RequestStatus};
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

/// The smallest callback gas limit the registry accepts (`MIN_CALLBACK_GAS` of
/// `InferenceRegistryStorage`); the largest is read from the chain (`deliveryParams`).
pub const MIN_CALLBACK_GAS: u32 = 10_000;

/// A consumer contract to call back with the result (`requestInferenceWithCallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Callback {
    /// The consumer contract (`IInferenceConsumer`); it must have code.
    pub consumer: Address,
    /// Gas forwarded, exactly, to each callback.
    pub gas_limit: u32,
    /// Also call back once, provisionally, at quorum (the final callback follows).
    pub early: bool,
    /// The callback fee escrowed for the deliverer; `None`: the smallest the registry accepts
    /// (`callbackFeeFor(gas_limit, early)`).
    pub fee: Option<U256>,
}

impl Callback {
    /// A final-only callback to `consumer` with `gas_limit` gas, at the smallest fee.
    pub fn new(consumer: Address, gas_limit: u32) -> Self {
        Self {
            consumer,
            gas_limit,
            early: false,
            fee: None,
        }
    }
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
    /// Requests inference of `model` on `input` (sent inline), answerable until `deadline_secs`
    /// after the latest block, approving `fee` first when the allowance is short: the request is
    /// simulated before the approve, so one that would revert leaves no approve behind
    /// ([`Client::send_with_allowance`]).
    pub async fn submit_request(
        &self,
        model: B256,
        input: &[u8],
        fee: U256,
        deadline_secs: u64,
    ) -> Result<Submitted, ClientError> {
        let registry = self.contract("InferenceRegistry")?;
        let now = self.chain_time().await?;
        let call = InferenceRegistry::requestInferenceCall {
            modelId: model,
            inputHash: keccak256(input),
            inputURI: inline_uri(input),
            fee,
            deadline: Uint::from(now + deadline_secs),
        };
        let receipt = self
            .send_with_allowance("requestInference", registry, &call, registry, fee)
            .await?;
        let id = first_event::<InferenceRegistry::RequestCreated>("requestInference", &receipt)?
            .requestId;
        Ok(Submitted { id, receipt })
    }

    /// Like [`submit_request`](Self::submit_request), naming a consumer contract that the registry calls
    /// back with the result (`requestInferenceWithCallback`); the sender pays `fee` plus the callback
    /// fee. Checked before anything is sent, each a typed error: the consumer has code
    /// ([`ClientError::ConsumerNotContract`]), the gas limit is within the registry's bounds
    /// ([`ClientError::CallbackGasOutOfRange`]), the callback fee covers the callback
    /// ([`ClientError::CallbackFeeTooLow`]); then the call is simulated (a revert arrives decoded).
    pub async fn submit_request_with_callback(
        &self,
        model: B256,
        input: &[u8],
        fee: U256,
        deadline_secs: u64,
        callback: Callback,
    ) -> Result<Submitted, ClientError> {
        let registry_address = self.contract("InferenceRegistry")?;
        let spec = self.check_callback(&callback).await?;
        let total = fee.saturating_add(spec.fee);
        let now = self.chain_time().await?;
        let call = InferenceRegistry::requestInferenceWithCallbackCall {
            modelId: model,
            inputHash: keccak256(input),
            inputURI: inline_uri(input),
            fee,
            deadline: Uint::from(now + deadline_secs),
            callback: spec,
        };
        let receipt = self
            .send_with_allowance(
                "requestInferenceWithCallback",
                registry_address,
                &call,
                registry_address,
                total,
            )
            .await?;
        let id = first_event::<InferenceRegistry::RequestCreated>(
            "requestInferenceWithCallback",
            &receipt,
        )?
        .requestId;
        Ok(Submitted { id, receipt })
    }

    /// Checks `callback` against the chain (consumer code, gas bounds, fee) and returns the spec to send.
    pub async fn check_callback(&self, callback: &Callback) -> Result<CallbackSpec, ClientError> {
        let registry = InferenceRegistry::new(self.contract("InferenceRegistry")?, self.provider());
        let code = self
            .provider()
            .get_code_at(callback.consumer)
            .await
            .map_err(ClientError::rpc(format!(
                "reading the code of consumer {}",
                callback.consumer
            )))?;
        if code.is_empty() {
            return Err(ClientError::ConsumerNotContract {
                consumer: callback.consumer,
            });
        }
        let params = registry
            .deliveryParams()
            .call()
            .await
            .map_err(ClientError::view("reading the delivery parameters"))?;
        let max = params.maxCallbackGas.saturating_to::<u64>();
        let gas = u64::from(callback.gas_limit);
        if gas < u64::from(MIN_CALLBACK_GAS) || gas > max {
            return Err(ClientError::CallbackGasOutOfRange {
                gas_limit: gas,
                min: u64::from(MIN_CALLBACK_GAS),
                max,
            });
        }
        let required = registry
            .callbackFeeFor(callback.gas_limit, callback.early)
            .call()
            .await
            .map_err(ClientError::view("reading the callback fee"))?;
        let fee = callback.fee.unwrap_or(required);
        if fee < required {
            return Err(ClientError::CallbackFeeTooLow { fee, required });
        }
        Ok(CallbackSpec {
            consumer: callback.consumer,
            gasLimit: callback.gas_limit,
            early: callback.early,
            fee,
        })
    }

    /// The delivery state of request `id` (its consumer callback, if any), with the state decoded.
    pub async fn delivery_view(
        &self,
        id: U256,
    ) -> Result<(CallbackState, DeliveryView), ClientError> {
        let registry = InferenceRegistry::new(self.contract("InferenceRegistry")?, self.provider());
        let view = registry
            .delivery(id)
            .call()
            .await
            .map_err(ClientError::view(format!(
                "reading the delivery of request {id}"
            )))?;
        let state = CallbackState::of(view.state).ok_or_else(|| ClientError::Unexpected {
            what: format!("callback state of request {id}"),
            value: view.state.to_string(),
        })?;
        Ok((state, view))
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
