//! The deliverer duty: calls consumer contracts back with a request's result (`deliverOutput`), earning
//! the callback fee the client escrowed.
//!
//! - `CallbackRegistered` marks a request as having a consumer (journal table `callbacks`, with its
//!   early opt-in).
//! - `RequestFinalized` / `RequestExpired` (and `QuorumReached` when the consumer opted into an early
//!   callback) schedule a delivery (journal table `deliveries`, due at a wall-clock time).
//! - Operators line up to deliver: those whose answer is the result, in assignment order (for a request
//!   without a result, every assigned operator). The first in line delivers at once, the next one
//!   [`DELIVERY_STAGGER`] later, and so on; a keeper outside the line goes last. When a delivery comes
//!   due, the keeper reads `delivery(id)` first and drops it if someone already delivered: only one
//!   keeper normally pays gas, and a keeper that is down does not stop delivery.
//! - The delivery is journaled as an [`IntentKind::DeliverOutput`] intent and sent by the transaction
//!   manager, whose gas estimate already covers the exact-gas forward: the registry reverts
//!   `InsufficientGasForCallback` below it, so the smallest succeeding limit includes the consumer's
//!   whole gas limit, and the manager adds its margin on top.
//! - A consumer that reverts or burns its gas only marks its callback failed on chain; the delivery
//!   transaction succeeds and the deliverer is paid. Nothing here counts it against anyone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Bytes, U256};
use alloy::sol_types::SolCall;
use verinfer_bindings::types::CallbackState;

use super::{rpc_err, Keeper, KeeperError, MAX_PUBLISHED_OUTPUT};
use crate::registry::{is_concrete_output, InferenceRegistry, RequestStatus};
use crate::store::{DeliveryStage as Stage, Intent, IntentKind};

/// How much later each next operator in line delivers, if nobody did before it.
pub const DELIVERY_STAGGER: Duration = Duration::from_secs(10);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Keeper {
    /// `CallbackRegistered`: remember that request `id` calls a consumer back.
    pub(super) fn on_callback_registered(&self, id: U256, early: bool) -> Result<(), KeeperError> {
        if !self.cfg.deliver {
            return Ok(());
        }
        self.store.put_callback(id, early)?;
        Ok(())
    }

    /// `QuorumReached` (early stage) or `RequestFinalized` / `RequestExpired` (final stage): schedule the
    /// callback delivery of request `id`, if it has a consumer.
    pub(super) async fn on_deliverable(&self, id: U256, early: bool) -> Result<(), KeeperError> {
        if !self.cfg.deliver {
            return Ok(());
        }
        let Some(early_opt_in) = self.store.callback(id)? else {
            return Ok(());
        };
        let stage = if early { Stage::Early } else { Stage::Final };
        if stage == Stage::Early && !early_opt_in {
            return Ok(());
        }
        let place = self.place_in_line(id).await?;
        let due = unix_now() + DELIVERY_STAGGER.as_secs() * place;
        self.store.schedule_delivery(stage, id, due)?;
        if stage == Stage::Final {
            self.store.forget_callback(id)?;
        }
        Ok(())
    }

    /// This operator's place among the deliverers of request `id`: the operators whose answer is the
    /// result (every assigned operator when there is none), in assignment order; last if not among them.
    async fn place_in_line(&self, id: U256) -> Result<u64, KeeperError> {
        let registry = self.registry();
        let view = registry
            .request(id)
            .call()
            .await
            .map_err(rpc_err("request"))?;
        let ops = registry
            .assignedOperators(id)
            .call()
            .await
            .map_err(rpc_err("assignedOperators"))?;
        let with_result = is_concrete_output(view.output)
            && RequestStatus::of(view.status) != Some(RequestStatus::Expired);
        let line: Vec<_> = ops
            .iter()
            .enumerate()
            .filter(|(i, _)| !with_result || view.agreeMask & (1u8 << i) != 0)
            .map(|(_, op)| *op)
            .collect();
        let place = line
            .iter()
            .position(|op| *op == self.cfg.operator)
            .unwrap_or(line.len());
        Ok(place as u64)
    }

    /// Journals the deliveries that came due and are still needed (checked against `delivery(id)`).
    pub(super) async fn delivery_duties(&mut self) -> Result<(), KeeperError> {
        if !self.cfg.deliver {
            return Ok(());
        }
        let now = unix_now();
        for (stage, id, due) in self.store.deliveries()? {
            if due > now {
                continue;
            }
            if let Some(output) = self.delivery_needed(id, stage).await? {
                let calldata = InferenceRegistry::deliverOutputCall {
                    requestId: id,
                    output,
                }
                .abi_encode();
                let who = format!("callback-{}-{:#x}", stage.as_str(), self.cfg.operator);
                let key = Intent::key_for(IntentKind::DeliverOutput, &id.to_string(), &who);
                tracing::info!(keeper = %self.name, %id, stage = stage.as_str(), "delivering the result to the consumer");
                self.journal(key, IntentKind::DeliverOutput, id, calldata)?;
            }
            self.store.forget_delivery(stage, id)?;
        }
        Ok(())
    }

    /// The bytes to deliver for request `id` at `stage`, or `None` when the callback was already made
    /// (by anyone), the request is not in the stage's status, or this keeper does not hold the bytes.
    async fn delivery_needed(&self, id: U256, stage: Stage) -> Result<Option<Bytes>, KeeperError> {
        let registry = self.registry();
        let d = registry
            .delivery(id)
            .call()
            .await
            .map_err(rpc_err("delivery"))?;
        let view = registry
            .request(id)
            .call()
            .await
            .map_err(rpc_err("request"))?;
        let status = RequestStatus::of(view.status);
        let needed = match stage {
            Stage::Early => d.early && !d.earlyDone && status == Some(RequestStatus::Quorum),
            Stage::Final => {
                CallbackState::of(d.state) == Some(CallbackState::Pending)
                    && matches!(
                        status,
                        Some(RequestStatus::Finalized | RequestStatus::Expired)
                    )
            }
        };
        if !needed {
            return Ok(None);
        }
        if status == Some(RequestStatus::Expired) || !is_concrete_output(view.output) {
            return Ok(Some(Bytes::new())); // no result: anyone may deliver its absence
        }
        let Some(bytes) = self.store.output(&view.output.0)? else {
            tracing::debug!(keeper = %self.name, %id, "result bytes not held here; leaving the delivery to others");
            return Ok(None);
        };
        if bytes.len() > MAX_PUBLISHED_OUTPUT {
            tracing::warn!(keeper = %self.name, %id, len = bytes.len(), "output too long to deliver on chain; the client or the consumer can deliver it by hash");
            return Ok(None);
        }
        Ok(Some(Bytes::from(bytes)))
    }
}
