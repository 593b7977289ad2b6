//! The jury duty: draws the jurors of drafted disputes and settles their juries
//! (`contracts/governance/extensions/DisputeJury.sol`, composed into `DisputeGovernor`; docs/keeper.md,
//! "Drafted juries"). Both calls are permissionless upkeep that nobody is paid for, so the keepers of
//! the finalizer role do them.
//!
//! - **Which disputes.** The registry's `DisputeOpened` with a vote dispute id (below the referee's
//!   `GAME_ID_BASE`): the keeper reads `juryCase(id)` on the registry's resolver (the dispute
//!   governor) and, if a jury was drafted, watches the dispute (journal table `jury`).
//! - **Decide from the state.** Each collect-and-decide round reads the case, its current round, the
//!   dispute's status and the chain's head and clock, and journals what is owed ([`owed`]): `draw` once
//!   the round's seed block is behind the head and its voting has not ended (a first round and every
//!   appeal round), `settleJury` once the ruling is executed and the pool is not frozen by another
//!   dispute's pending draw. A settled case is forgotten.
//! - **Crash safety.** Each call is an intent keyed by dispute (and round, for a draw):
//!   `jury_draw:<dispute>:<round>:<operator>`, `jury_settle:<dispute>:<operator>`, journaled before
//!   anything is sent, so a keeper killed at any point and restarted finds the same intent, never a
//!   second one.
//! - **Already done is success.** Several keepers race for the same call. A draw that reverts
//!   `AlreadyDrawn`, or a settlement that reverts `NotSettleable` (the case was settled: the duty only
//!   journals a settlement of an executed ruling), was done by someone else: the intent is booked
//!   done, not abandoned, and nothing is counted as a failure ([`already_done`]). An intent abandoned
//!   for any other reason while the call is still owed (e.g. a draw estimated a block too early, a
//!   settlement that met a pool frozen since) is made pending again and retried.

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolError};
use verinfer_bindings::DisputeGovernor;

use super::{rpc_err, Keeper, KeeperError};
use crate::store::{Intent, IntentKind, IntentStatus, JuryWatch};

/// `DisputeGovernor.Status.Executed` (the ruling was applied to the registry).
const STATUS_EXECUTED: u8 = 3;

/// A call the jury duty owes for one dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JuryCall {
    /// `draw(dispute)` for round `round`.
    Draw {
        /// The round awaiting its draw.
        round: u8,
    },
    /// `settleJury(dispute)`.
    Settle,
}

/// What the chain says of one drafted dispute, as the duty reads it.
#[derive(Clone, Copy, Debug)]
pub(super) struct JuryState {
    /// `juryCase.settled`.
    pub settled: bool,
    /// `juryCase.round`.
    pub round: u8,
    /// The current round's `drawn`.
    pub drawn: bool,
    /// The current round's `drawBlock` (the seed block).
    pub draw_block: u64,
    /// The current round's `commitEnd` (chain time, inclusive): the last second it can be drawn.
    pub commit_end: u64,
    /// The dispute's ruling was executed.
    pub executed: bool,
    /// `pendingDraws` of the governor (the pool is frozen while it is not zero).
    pub pending_draws: u64,
}

/// The call owed in `s` at chain `head` and time `now`, if any. A draw needs a block after the seed
/// block (the next block is `head + 1`) and the commit period not over (the next block's time is at least
/// `now`); a settlement needs the ruling executed, the case not settled and no round anywhere
/// awaiting its draw.
pub(super) fn owed(s: &JuryState, head: u64, now: u64) -> Option<JuryCall> {
    if s.settled {
        return None;
    }
    if s.executed {
        return (s.pending_draws == 0).then_some(JuryCall::Settle);
    }
    if !s.drawn && head >= s.draw_block && now < s.commit_end {
        return Some(JuryCall::Draw { round: s.round });
    }
    None
}

/// The name of a custom error as the transaction manager's decoded revert reason starts with it
/// (`DisputeGovernor::AlreadyDrawn(..)`).
pub(super) fn error_name<E: SolError>() -> &'static str {
    E::SIGNATURE.split('(').next().unwrap_or(E::SIGNATURE)
}

/// Whether a jury intent of `kind` that reverted with `reason` was already done by someone else: a
/// draw that reverts `AlreadyDrawn`, a settlement that reverts `NotSettleable` (journaled only once
/// the ruling was executed, so the case was settled).
pub(super) fn already_done(kind: IntentKind, reason: &str) -> bool {
    let name = match kind {
        IntentKind::JuryDraw => error_name::<DisputeGovernor::AlreadyDrawn>(),
        IntentKind::JurySettle => error_name::<DisputeGovernor::NotSettleable>(),
        _ => return false,
    };
    reverted_with(reason, name)
}

/// Whether a decoded revert `reason` is the custom error `name` (`Contract::Name(..)` or `Name(..)`).
pub(super) fn reverted_with(reason: &str, name: &str) -> bool {
    reason.contains(&format!("::{name}(")) || reason.starts_with(&format!("{name}("))
}

impl Keeper {
    /// `DisputeOpened` with a vote dispute: if the registry's resolver drafted a jury for it, watch
    /// it (finalizer role).
    pub(super) async fn on_vote_dispute_opened(
        &mut self,
        request: U256,
        dispute: U256,
    ) -> Result<(), KeeperError> {
        if !self.cfg.finalize {
            return Ok(());
        }
        let governor = self
            .registry()
            .resolver()
            .call()
            .await
            .map_err(rpc_err("resolver"))?;
        if governor == Address::ZERO {
            return Ok(());
        }
        let case = DisputeGovernor::new(governor, &self.provider)
            .juryCase(dispute)
            .call()
            .await
            .map_err(rpc_err("juryCase"))?;
        if !case.drafted {
            return Ok(());
        }
        tracing::info!(keeper = %self.name, %dispute, %request, "drafted jury; watching its draws and settlement");
        self.store
            .watch_jury(dispute, &JuryWatch { request, governor })?;
        Ok(())
    }

    /// Reads what the chain says of drafted dispute `dispute` on `governor`.
    async fn jury_state(&self, governor: Address, dispute: U256) -> Result<JuryState, KeeperError> {
        let gov = DisputeGovernor::new(governor, &self.provider);
        let case = gov
            .juryCase(dispute)
            .call()
            .await
            .map_err(rpc_err("juryCase"))?;
        let round = gov
            .juryRound(dispute, U256::from(case.round))
            .call()
            .await
            .map_err(rpc_err("juryRound"))?;
        let d = gov
            .dispute(dispute)
            .call()
            .await
            .map_err(rpc_err("dispute"))?;
        let pending = gov
            .pendingDraws()
            .call()
            .await
            .map_err(rpc_err("pendingDraws"))?;
        Ok(JuryState {
            settled: case.settled,
            round: case.round,
            drawn: round.drawn,
            draw_block: round.drawBlock,
            commit_end: round.commitEnd.to::<u64>(),
            executed: d.status == STATUS_EXECUTED,
            pending_draws: pending.saturating_to::<u64>(),
        })
    }

    /// The jury duty, once: for every watched dispute, journal the call owed (docs/keeper.md,
    /// "Drafted juries").
    pub(super) async fn jury_duties(&mut self) -> Result<(), KeeperError> {
        let watched = self.store.jury_watches()?;
        if watched.is_empty() {
            return Ok(());
        }
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| KeeperError::Rpc {
                op: "eth_blockNumber",
                msg: e.to_string(),
            })?;
        let now = self.chain_time().await?;
        let me = format!("{:#x}", self.cfg.operator);
        for (dispute, w) in watched {
            let s = self.jury_state(w.governor, dispute).await?;
            if s.settled {
                tracing::info!(keeper = %self.name, %dispute, "jury settled; no longer watched");
                self.store.forget_jury(dispute)?;
                continue;
            }
            let Some(call) = owed(&s, head, now) else {
                continue;
            };
            let (kind, key, calldata) = match call {
                JuryCall::Draw { round } => (
                    IntentKind::JuryDraw,
                    Intent::key_for(IntentKind::JuryDraw, &format!("{dispute}:{round}"), &me),
                    DisputeGovernor::drawCall { disputeId: dispute }.abi_encode(),
                ),
                JuryCall::Settle => (
                    IntentKind::JurySettle,
                    Intent::key_for(IntentKind::JurySettle, &dispute.to_string(), &me),
                    DisputeGovernor::settleJuryCall { disputeId: dispute }.abi_encode(),
                ),
            };
            match self.store.intent(&key)? {
                None => {
                    tracing::info!(keeper = %self.name, %dispute, key = %key, "jury call owed");
                    self.store.insert_intent_if_absent(&Intent {
                        key,
                        kind,
                        subject: Some(w.request),
                        to: Some(w.governor),
                        calldata: calldata.into(),
                        status: IntentStatus::Pending,
                        members: vec![],
                        single_only: true,
                    })?;
                }
                Some(mut i) if matches!(i.status, IntentStatus::Abandoned { .. }) => {
                    // Still owed on chain: what stopped it has passed. Nothing of it is in flight
                    // (abandoned), so it is safe to send afresh.
                    tracing::info!(keeper = %self.name, %dispute, key = %i.key, "jury call still owed; retrying");
                    i.status = IntentStatus::Pending;
                    self.store.put_intent(&i)?;
                }
                Some(_) => {} // pending, in flight or done
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> JuryState {
        JuryState {
            settled: false,
            round: 0,
            drawn: false,
            draw_block: 10,
            commit_end: 1_000,
            executed: false,
            pending_draws: 1,
        }
    }

    /// A round is drawn from the block after its seed block until its voting ends; not twice.
    #[test]
    fn a_draw_is_owed_after_the_seed_block_until_voting_ends() {
        let s = state();
        assert_eq!(owed(&s, 9, 500), None, "the seed block is not mined yet");
        assert_eq!(owed(&s, 10, 500), Some(JuryCall::Draw { round: 0 }));
        assert_eq!(owed(&s, 10, 1_000), None, "voting is over");
        let drawn = JuryState { drawn: true, ..s };
        assert_eq!(owed(&drawn, 11, 500), None, "drawn already");
        let appeal = JuryState {
            round: 1,
            draw_block: 40,
            ..s
        };
        assert_eq!(
            owed(&appeal, 41, 500),
            Some(JuryCall::Draw { round: 1 }),
            "an appeal round is drawn too, under its own round"
        );
    }

    /// Settlement is owed once the ruling is executed and no draw freezes the pool; never twice.
    #[test]
    fn settlement_is_owed_once_executed_and_the_pool_is_not_frozen() {
        let executed = JuryState {
            drawn: true,
            executed: true,
            pending_draws: 1,
            ..state()
        };
        assert_eq!(owed(&executed, 50, 5_000), None, "frozen by another draw");
        let free = JuryState {
            pending_draws: 0,
            ..executed
        };
        assert_eq!(owed(&free, 50, 5_000), Some(JuryCall::Settle));
        let settled = JuryState {
            settled: true,
            ..free
        };
        assert_eq!(owed(&settled, 50, 5_000), None);
    }

    /// Another keeper's draw or settlement first: the revert names the call done, and only that.
    #[test]
    fn already_drawn_and_not_settleable_read_as_done_and_nothing_else_does() {
        let drawn = "DisputeGovernor::AlreadyDrawn(disputeId = 3, round = 0)";
        let unsettleable = "DisputeGovernor::NotSettleable(disputeId = 3)";
        assert!(already_done(IntentKind::JuryDraw, drawn));
        assert!(already_done(IntentKind::JurySettle, unsettleable));
        assert!(!already_done(IntentKind::JurySettle, drawn));
        assert!(!already_done(
            IntentKind::JuryDraw,
            "DisputeGovernor::DrawClosed(disputeId = 3, commitEnd = 9)"
        ));
        assert!(!already_done(IntentKind::Finalize, drawn));
    }
}
