//! Phase 5c, consumer contracts: the example `ClassifierConsumer` and three `ScriptedConsumer`s (one
//! recording every callback, one reverting, one burning all its gas) are deployed, and the client sends
//! requests through them: through the classifier's own `classify` (the consumer is the client), and by
//! naming a scripted consumer in `requestInferenceWithCallback` (the client library's
//! `submit_request_with_callback`). After finalization ([`Devnet::callbacks`]) the keepers deliver
//! each result for the callback fee; the phase reads what happened from `CallbackAttempted` and the
//! deliverers' `Credited` events.

use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Uint, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use verinfer_bindings::types::{CallbackState, RequestStatus, ScriptedBehaviour};
use verinfer_bindings::units::tokens;
use verinfer_bindings::{ClassifierConsumer, InferenceRegistry, ScriptedConsumer, VerinferToken};
use verinfer_client::requests::{inline_uri, Callback};
use verinfer_client::Client;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;
use crate::traffic::{DEADLINE_SECS, FEE_TOKENS};

/// Requests per scripted route in [`Devnet::run`] (the classifier route gets twice as many).
pub const REQUESTS_PER_ROUTE: usize = 1;

/// Gas margin over the estimate of a request made through a consumer contract, percent.
pub const CONSUMER_GAS_MARGIN_PERCENT: u64 = 20;

/// Callback gas limit of every consumer request (ample for the classifier and the recorder).
pub const CALLBACK_GAS: u32 = 100_000;

/// Which consumer a request names, and how it behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `ClassifierConsumer.classify` (the example acting on the built-in model's output).
    Classifier,
    /// A `ScriptedConsumer` that records the callback, named by the client.
    Recorder,
    /// A `ScriptedConsumer` that reverts (hostile).
    Reverting,
    /// A `ScriptedConsumer` that burns all its gas (hostile).
    GasBurning,
}

impl Route {
    /// Whether the consumer is built to fail its callbacks.
    pub fn hostile(self) -> bool {
        matches!(self, Self::Reverting | Self::GasBurning)
    }
}

/// The consumer contracts deployed.
#[derive(Debug, Clone, Copy)]
pub struct Consumers {
    /// The example `ClassifierConsumer`.
    pub classifier: Address,
    /// A recording `ScriptedConsumer`.
    pub recorder: Address,
    /// A reverting `ScriptedConsumer`.
    pub reverting: Address,
    /// A gas-burning `ScriptedConsumer`.
    pub gas_burning: Address,
}

/// A request sent through a consumer.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerRequest {
    /// Its id.
    pub id: U256,
    /// The consumer route.
    pub route: Route,
    /// Submission to verified output bytes in the client's hands, milliseconds (`None`: not fetched).
    pub output_ms: Option<u64>,
}

/// What the consumer phase sent.
#[derive(Debug, Clone)]
pub struct ConsumerTraffic {
    /// The contracts.
    pub consumers: Consumers,
    /// The requests, in order.
    pub sent: Vec<ConsumerRequest>,
}

/// One `CallbackAttempted` event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallbackAttempt {
    /// The request.
    pub request: String,
    /// The route of the request.
    pub route: Route,
    /// The status the consumer was called with.
    pub status: String,
    /// Whether the consumer's call returned successfully.
    pub success: bool,
    /// Gas the consumer's call consumed.
    pub gas_used: u64,
    /// Who delivered (the sender of `deliverOutput`).
    pub deliverer: Address,
    /// The callback fee credited to the deliverer in the same transaction, token units.
    pub fee_earned: String,
}

/// How the callbacks ended.
#[derive(Debug, Clone, Default)]
pub struct Callbacks {
    /// Every callback attempted on the consumer requests.
    pub attempts: Vec<CallbackAttempt>,
    /// Consumer requests whose final callback is still pending when the wait ended.
    pub pending: usize,
    /// `OutputDelivered` events of the consumer requests (bytes published on chain).
    pub outputs_delivered: usize,
}

impl Devnet {
    /// Deploys the consumers from the deployer's account.
    pub async fn deploy_consumers(&self, d: &Deployment) -> Result<Consumers, DevnetError> {
        let registry = d.contract("InferenceRegistry")?;
        let p = d.deployer.provider();
        let deploy_err = |what: &'static str| {
            move |e: alloy::contract::Error| DevnetError::View {
                what: format!("deploying {what}"),
                source: Box::new(e),
            }
        };
        let classifier =
            ClassifierConsumer::deploy_builder(p, registry, d.model_id, d.deployer.sender())
                .deploy()
                .await
                .map_err(deploy_err("ClassifierConsumer"))?;
        let mut scripted = Vec::new();
        for b in [
            ScriptedBehaviour::Record,
            ScriptedBehaviour::Revert,
            ScriptedBehaviour::BurnGas,
        ] {
            scripted.push(
                ScriptedConsumer::deploy_builder(p, registry, u8::from(b))
                    .deploy()
                    .await
                    .map_err(deploy_err("ScriptedConsumer"))?,
            );
        }
        Ok(Consumers {
            classifier,
            recorder: scripted[0],
            reverting: scripted[1],
            gas_burning: scripted[2],
        })
    }

    /// Deploys the consumers and sends `per_route` requests through each (the classifier route twice as
    /// many), each with an input of the test split; waits for each result and fetches its output as a
    /// client does, timing submission → verified bytes.
    pub async fn consumer_traffic(
        &self,
        d: &Deployment,
        per_route: usize,
    ) -> Result<ConsumerTraffic, DevnetError> {
        self.say(Progress::Phase(
            "consumer contracts: deploying the classifier example and scripted (hostile) consumers"
                .into(),
        ));
        let consumers = self.deploy_consumers(d).await?;
        let split = self.config().load_test_split()?;
        let client = self.client(self.dev_signer(9)?, &d.manifest_path).await?;
        let routes: Vec<Route> = std::iter::repeat_n(Route::Classifier, 2 * per_route)
            .chain(std::iter::repeat_n(Route::Recorder, per_route))
            .chain(std::iter::repeat_n(Route::Reverting, per_route))
            .chain(std::iter::repeat_n(Route::GasBurning, per_route))
            .collect();
        let registry = InferenceRegistry::new(d.contract("InferenceRegistry")?, client.provider());
        let cb_fee = registry
            .callbackFeeFor(CALLBACK_GAS, false)
            .call()
            .await
            .map_err(DevnetError::view("callbackFeeFor"))?;
        let each = tokens(FEE_TOKENS) + cb_fee;
        d.deployer
            .send(
                "fund-consumer-client",
                d.contract("VerinferToken")?,
                &VerinferToken::transferCall {
                    to: client.sender(),
                    value: U256::from(routes.len()) * each,
                },
            )
            .await?;
        let mut sent = Vec::with_capacity(routes.len());
        for (n, route) in routes.into_iter().enumerate() {
            let sample = split.cycle(n + 7);
            let at = Instant::now();
            let id = match route {
                Route::Classifier => {
                    self.classify(&client, consumers.classifier, &sample.input, each)
                        .await?
                }
                Route::Recorder | Route::Reverting | Route::GasBurning => {
                    let consumer = match route {
                        Route::Recorder => consumers.recorder,
                        Route::Reverting => consumers.reverting,
                        _ => consumers.gas_burning,
                    };
                    client
                        .submit_request_with_callback(
                            d.model_id,
                            &sample.input,
                            tokens(FEE_TOKENS),
                            DEADLINE_SECS,
                            Callback::new(consumer, CALLBACK_GAS),
                        )
                        .await?
                        .id
                }
            };
            sent.push((id, route, at));
        }
        let mut out = Vec::with_capacity(sent.len());
        for (id, route, at) in sent {
            let output_ms = match client.wait_result(id, self.config().timeout).await {
                Ok(_) => client
                    .result_output(id, Duration::from_secs(5))
                    .await
                    .ok()
                    .map(|_| u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)),
                Err(e) => {
                    tracing::warn!(%id, error = %e, "consumer request without a result");
                    None
                }
            };
            out.push(ConsumerRequest {
                id,
                route,
                output_ms,
            });
        }
        Ok(ConsumerTraffic {
            consumers,
            sent: out,
        })
    }

    async fn classify(
        &self,
        client: &Client,
        classifier: Address,
        input: &[u8],
        allowance: U256,
    ) -> Result<U256, DevnetError> {
        client.approve(classifier, allowance).await?;
        let now = client.chain_time().await?;
        // The consumer records the request after the registry's call returns, so its smallest gas
        // limit depends on the draw: an estimate plus a margin.
        let receipt = client
            .send_with_gas_margin(
                "classify",
                classifier,
                &ClassifierConsumer::classifyCall {
                    inputHash: keccak256(input),
                    inputURI: inline_uri(input),
                    fee: tokens(FEE_TOKENS),
                    deadline: Uint::from(now + DEADLINE_SECS),
                    gasLimit: CALLBACK_GAS,
                },
                CONSUMER_GAS_MARGIN_PERCENT,
            )
            .await?;
        Ok(
            verinfer_client::client::first_event::<InferenceRegistry::RequestCreated>(
                "classify", &receipt,
            )?
            .requestId,
        )
    }

    /// After finalization: waits (at most
    /// [`DevnetConfig::finalize_timeout`](crate::DevnetConfig::finalize_timeout)) until the keepers
    /// made every consumer request's final callback, then reads the attempts and the fees earned.
    pub async fn callbacks(
        &self,
        d: &Deployment,
        traffic: &ConsumerTraffic,
    ) -> Result<Callbacks, DevnetError> {
        self.say(Progress::Phase(
            "waiting for the keepers to deliver results to the consumers".into(),
        ));
        let deadline = Instant::now() + self.config().finalize_timeout;
        let pending = loop {
            let mut pending = 0;
            for r in &traffic.sent {
                let (state, _) = d.deployer.delivery_view(r.id).await?;
                let (status, _) = d.deployer.request_view(r.id).await?;
                let settled = matches!(status, RequestStatus::Finalized | RequestStatus::Expired);
                if !settled || state == CallbackState::Pending {
                    pending += 1;
                }
            }
            let of = traffic.sent.len();
            self.say(Progress::Status(format!(
                "callbacks made {}/{of}",
                of - pending
            )));
            if pending == 0 || Instant::now() > deadline {
                break pending;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        self.say(Progress::StatusDone);
        let registry = d.contract("InferenceRegistry")?;
        let route_of = |id: U256| traffic.sent.iter().find(|r| r.id == id).map(|r| r.route);
        let logs = self
            .provider()
            .get_logs(&Filter::new().address(registry).from_block(d.manifest.block))
            .await
            .map_err(DevnetError::rpc("reading the delivery events"))?;
        let mut out = Callbacks {
            pending,
            ..Callbacks::default()
        };
        for log in &logs {
            if let Ok(e) = InferenceRegistry::OutputDelivered::decode_log_data(log.data()) {
                if route_of(e.requestId).is_some() && !e.output.is_empty() {
                    out.outputs_delivered += 1;
                }
                continue;
            }
            let Ok(e) = InferenceRegistry::CallbackAttempted::decode_log_data(log.data()) else {
                continue;
            };
            let Some(route) = route_of(e.requestId) else {
                continue;
            };
            let fee: U256 = logs
                .iter()
                .filter(|l| l.transaction_hash == log.transaction_hash)
                .filter_map(|l| InferenceRegistry::Credited::decode_log_data(l.data()).ok())
                .filter(|c| c.account == e.deliverer && c.requestId == e.requestId)
                .map(|c| c.amount)
                .fold(U256::ZERO, |a, b| a + b);
            out.attempts.push(CallbackAttempt {
                request: e.requestId.to_string(),
                route,
                status: RequestStatus::of(e.status)
                    .map_or("Unknown", |s| s.name())
                    .to_owned(),
                success: e.success,
                gas_used: e.gasUsed.saturating_to(),
                deliverer: e.deliverer,
                fee_earned: fee.to_string(),
            });
        }
        Ok(out)
    }
}
