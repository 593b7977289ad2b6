//! The deliverer duty: calls consumer contracts back with a request's result (`deliverOutput`), earning
//! the callback fee the client escrowed.
//!
//! - `CallbackRegistered` marks a request as having a consumer (`cb:<id>`, with its early opt-in).
//! - `RequestFinalized` / `RequestExpired` (and `QuorumReached` when the consumer opted into an early
//!   callback) schedule a delivery (`dv:<stage>:<id>`, due at a wall-clock time).
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
use serde::{Deserialize, Serialize};
use verinfer_bindings::types::CallbackState;

use super::{rpc_err, Keeper, KeeperError, MAX_PUBLISHED_OUTPUT};
use crate::registry::{is_concrete_output, InferenceRegistry, RequestStatus};
use crate::store::{Intent, IntentKind};

/// How much later each next operator in line delivers, if nobody did before it.
pub const DELIVERY_STAGGER: Duration = Duration::from_secs(10);

/// What the keeper remembers of a request's callback (`cb:<id>`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct CallbackInfo {
    early: bool,
}

/// Which callback a delivery makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The provisional callback at quorum (opt-in).
    Early,
    /// The final callback (Finalized or Expired).
    Final,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Early => "early",
            Self::Final => "final",
        }
    }
}

fn cb_key(id: U256) -> String {
    format!("cb:{id:0>20}")
}

fn dv_key(stage: Stage, id: U256) -> String {
    format!("dv:{}:{id:0>20}", stage.as_str())
}

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
        let v = serde_json::to_vec(&CallbackInfo { early }).unwrap_or_default();
        self.store.put_meta(&cb_key(id), &v)?;
        Ok(())
    }

    /// `QuorumReached` (early stage) or `RequestFinalized` / `RequestExpired` (final stage): schedule the
    /// callback delivery of request `id`, if it has a consumer.
    pub(super) async fn on_deliverable(&self, id: U256, early: bool) -> Result<(), KeeperError> {
        if !self.cfg.deliver {
            return Ok(());
        }
        let Some(raw) = self.store.get_meta(&cb_key(id))? else {
            return Ok(());
        };
        let Ok(info) = serde_json::from_slice::<CallbackInfo>(&raw) else {
            return Ok(());
        };
        let stage = if early { Stage::Early } else { Stage::Final };
        if stage == Stage::Early && !info.early {
            return Ok(());
        }
        let place = self.place_in_line(id).await?;
        let due = unix_now() + DELIVERY_STAGGER.as_secs() * place;
        self.store
            .put_meta(&dv_key(stage, id), &due.to_be_bytes())?;
        if stage == Stage::Final {
            self.store.delete_meta(&cb_key(id))?;
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
        for (k, v) in self.store.meta_with_prefix("dv:")? {
            let due = u64::from_be_bytes(v.as_slice().try_into().unwrap_or([0xff; 8]));
            if due > now {
                continue;
            }
            let stage = if k.starts_with("dv:early:") {
                Stage::Early
            } else {
                Stage::Final
            };
            let id: U256 = k
                .rsplit(':')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default();
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
            self.store.delete_meta(&k)?;
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
