//! The sender lease of replicas (docs/keeper.md, "High availability", "One sender at a time").
//!
//! Replicas of one operator share its hot key, so they share its nonces: two replicas sending at
//! once collide on nonces and send every attestation twice (the second copy reverts or is refused).
//! Every replica therefore claims and journals every answer (the signing store keeps that safe),
//! but only the holder of the operator's **sender lease** sends transactions. The lease is a row in
//! the signing store's database ([`SigningStore::hold_lease`]), taken or renewed every quarter of
//! its length, timed by the database's clock.
//!
//! **A standby defers to the holder** ([`SenderLease::defers`]): while another replica's lease is
//! live, a standby does not run the model for an assignment nobody claimed yet; it waits for the
//! holder's statement and adopts it, so replicas do not run every inference twice. It stops waiting
//! when it takes the lease, when its view of the holder is older than the lease, or at one deadline
//! for all the answers of a poll's range, [`SenderLease::max_defer`] after the poll (half the poll
//! age with which it keeps or takes the lease, so its collect stage keeps polling often enough to
//! take over), and then answers on its own, as a single keeper does.
//!
//! **Timing invariants** (`ttl` = `signing_store.sender_lease_ms`):
//! - the holder may send only until 2/3 of `ttl` after it *sent* its last successful renewal (its
//!   own clock, so a renewal that took long counts from its start);
//! - another replica may take the lease only once it lapsed in the database, `ttl` after the
//!   database wrote the holder's last renewal, which is after the holder sent it;
//! - so a holder cut off from the database stops sending at least `ttl / 3` before anyone else
//!   starts (with clocks that run at the same rate), and a renewal that takes longer than
//!   `2 ttl / 3` is useless: the configuration requires `ttl > 1.5 x timeout_ms`.
//!
//! **The holder claims first** ([`SenderLease::claims_first`]): an assignment made after this
//! replica's tenure began (the chain head when it took the lease over, read before it counts;
//! any block for the operator's first grant ever) is answered without first looking its statement
//! up in the store, since a standby defers such assignments to the holder. A replica's answers wait
//! for its first attempt ([`SenderLease::first_answer`]) before deciding, so a replica started on a
//! backlog claims it without look-ups when that attempt grants it the lease (a keeper driven by
//! `Keeper::tick` attempts after its collect stage, and its answers do not wait). A standby reads a
//! slot first one poll interval after the poll that brought the assignment, usually after the
//! holder's statement. The claim itself still resolves any replica that claimed first, so skipping
//! the look-up costs at most an inference that is then adopted away, never a second statement.
//!
//! The lease guards liveness and gas, not safety: signing is guarded by the claims alone, so even
//! two replicas that both believe they hold the lease never equivocate.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;

use crate::signing_store::{LeaseHolder, SigningStore, SigningStoreError};

/// What one [`SenderLease::attempt`] changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LeaseChange {
    /// This replica took the lease (it did not hold it before); `epoch` 1 is the operator's first
    /// grant ever: no other process ever sent for it.
    Acquired {
        /// The lease's epoch.
        epoch: i64,
    },
    /// This replica renewed the lease it held.
    Renewed,
    /// Another replica holds the lease (this one held it until now when `lost`).
    Standby {
        /// The holder's id (`<replica>/<random>`), if the database named it.
        holder: Option<String>,
        /// Whether this replica held the lease before this attempt.
        lost: bool,
    },
}

/// One replica's view of its operator's sender lease.
#[derive(Debug)]
pub(super) struct SenderLease {
    store: Arc<SigningStore>,
    chain_id: u64,
    operator: Address,
    ttl: Duration,
    /// The log poller's interval: a replica whose last successful poll is older than
    /// [`SenderLease::max_poll_age`] neither keeps nor takes the lease.
    poll_interval: Duration,
    /// Until when this replica may send (its own clock); `None` when it does not hold the lease.
    until: std::sync::Mutex<Option<Instant>>,
    /// The epoch of this process's last grant: a grant of the same epoch is a renewal (nobody else
    /// held the lease in between, even if this process's own deadline passed meanwhile).
    epoch: std::sync::Mutex<Option<i64>>,
    /// When this replica last sent an attempt that the database answered with another replica's
    /// live lease (`None`: never, or this replica took the lease since).
    other_holds: std::sync::Mutex<Option<Instant>>,
    /// Set once an attempt returned (granted, refused or failed) or was skipped (the replica's
    /// polls failing): a replica that starts answering before its first attempt returns waits for
    /// it to know whether it stands by.
    answered: tokio::sync::watch::Sender<bool>,
    /// Whether attempts run on a schedule of their own, beside the collect stage
    /// ([`SenderLease::schedule`], `Keeper::run`): only then do answers wait for the first one.
    /// A keeper driven by `Keeper::tick` attempts after its collect stage, so its answers would
    /// wait out their deadline for nothing.
    scheduled: AtomicBool,
    /// The chain head when this replica last took the lease over from an earlier holder (0: never,
    /// or only the operator's first grant ever, which follows nobody): an answer to an assignment
    /// up to it may have been claimed, and sent, by that holder.
    takeover_head: AtomicU64,
    /// Whether `takeover_head` covers the tenure at hand: set by a first grant ever and by
    /// [`SenderLease::took_over_at`]; cleared, before the grant is visible, by a grant that takes
    /// over (until its head is read) and when another replica holds the lease. (Read only while
    /// the lease is held.)
    head_current: AtomicBool,
}

impl SenderLease {
    pub(super) fn new(
        store: Arc<SigningStore>,
        chain_id: u64,
        operator: Address,
        ttl: Duration,
        poll_interval: Duration,
    ) -> Self {
        Self {
            store,
            chain_id,
            operator,
            ttl,
            poll_interval,
            until: std::sync::Mutex::new(None),
            epoch: std::sync::Mutex::new(None),
            other_holds: std::sync::Mutex::new(None),
            answered: tokio::sync::watch::Sender::new(false),
            scheduled: AtomicBool::new(false),
            takeover_head: AtomicU64::new(0),
            head_current: AtomicBool::new(false),
        }
    }

    /// Records the chain head read after this replica took the lease over (`u64::MAX` when it
    /// could not be read: for the rest of the process every answer then looks its statement up
    /// first and is estimated afresh if claimed before, as after an unknown takeover).
    pub(super) fn took_over_at(&self, head: u64) {
        self.takeover_head.fetch_max(head, Ordering::SeqCst);
        self.head_current.store(true, Ordering::SeqCst);
    }

    /// Makes the next grant count as taking the lease over ([`LeaseChange::Acquired`]) even at the
    /// same epoch (nobody held it meanwhile): for a replica that took it over but could not finish
    /// the takeover (its journal unreadable) and gave it up, so the next grant finishes it.
    pub(super) fn retake(&self) {
        *self.epoch() = None;
        self.head_current.store(false, Ordering::SeqCst);
    }

    /// The chain head when this replica last took the lease over (0: never).
    pub(super) fn takeover_head(&self) -> u64 {
        self.takeover_head.load(Ordering::SeqCst)
    }

    /// Whether this replica's answer to the assignment made at block `assigned_at` may skip the
    /// look-up of a statement another replica claimed: it holds the lease, its tenure's head is
    /// known, and the assignment came after it (a standby defers such an assignment to the holder).
    /// `false` for an answer not from a log.
    pub(super) fn claims_first(&self, assigned_at: Option<u64>) -> bool {
        self.held()
            && self.head_current.load(Ordering::SeqCst)
            && assigned_at.is_some_and(|b| b > self.takeover_head())
    }

    /// How often a standby reads the slot it waits on, and how long after a poll it first reads
    /// one: every poll interval (10 ms at least).
    pub(super) fn step(&self) -> Duration {
        self.poll_interval.max(Duration::from_millis(10))
    }

    /// The longest a standby defers the answers of one poll's range to the holder
    /// ([`SenderLease::defers`]; one deadline for the whole range, from the poll): half of
    /// [`SenderLease::max_poll_age`], so a standby whose collect stage waits on deferred answers
    /// still polls often enough to keep or take the lease. 2.5 s with the defaults (a 4 s lease,
    /// 500 ms polls: `max_poll_age` 5 s).
    pub(super) fn max_defer(&self) -> Duration {
        self.max_poll_age() / 2
    }

    /// Whether this replica stands by for a live holder: it does not hold the lease, and an attempt
    /// it sent less than the lease's length ago found another replica holding it (so that holder
    /// answers and sends; if it dies, its lease lapses and this replica takes it, or this view ages
    /// out first).
    pub(super) fn defers(&self) -> bool {
        !self.held() && self.other_holds().is_some_and(|t| t.elapsed() < self.ttl)
    }

    /// Waits until an attempt was answered (or skipped), at most `limit`; at once unless attempts
    /// are scheduled ([`SenderLease::schedule`]: `Keeper::run` attempts as soon as the first poll
    /// returns; a keeper driven by `Keeper::tick` attempts only after its collect stage).
    pub(super) async fn first_answer(&self, limit: Duration) {
        if !self.scheduled.load(Ordering::SeqCst) {
            return;
        }
        let mut rx = self.answered.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|a| *a)).await;
    }

    /// Attempts run on a schedule of their own from now on (`Keeper::run` tends the lease beside
    /// its stages): a replica's answers wait for its first attempt
    /// ([`SenderLease::first_answer`]).
    pub(super) fn schedule(&self) {
        self.scheduled.store(true, Ordering::SeqCst);
    }

    /// An attempt this replica skipped (its polls failing): answers waiting for an attempt go
    /// on, as after a failed one.
    pub(super) fn skipped(&self) {
        self.answered.send_replace(true);
    }

    /// How often the lease is taken or renewed.
    pub(super) fn period(&self) -> Duration {
        self.ttl / 4
    }

    /// The oldest last successful log poll with which this replica keeps or takes the lease: the
    /// lease's length, or ten poll intervals if that is longer.
    pub(super) fn max_poll_age(&self) -> Duration {
        self.ttl.max(self.poll_interval * 10)
    }

    fn until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn epoch(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        self.epoch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn other_holds(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.other_holds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this replica may send now.
    pub(super) fn held(&self) -> bool {
        self.until().is_some_and(|u| Instant::now() < u)
    }

    /// Takes or renews the lease once. A database error leaves the local deadline as it was, so
    /// a holder that cannot renew stops sending when its deadline passes.
    pub(super) async fn attempt(&self) -> Result<LeaseChange, SigningStoreError> {
        let sent = Instant::now();
        let was = self.held();
        let answer = self
            .store
            .hold_lease(self.chain_id, self.operator, self.ttl)
            .await;
        let change = self.record(answer, sent, was);
        // Answered either way, and only once the state is written: a replica waiting to know
        // whether it stands by goes on (a failed attempt leaves it answering on its own, as before
        // any lease was seen).
        self.answered.send_replace(true);
        change
    }

    /// Writes what an attempt sent at `sent` (when this replica held the lease: `was`) was
    /// answered.
    fn record(
        &self,
        answer: Result<LeaseHolder, SigningStoreError>,
        sent: Instant,
        was: bool,
    ) -> Result<LeaseChange, SigningStoreError> {
        match answer? {
            LeaseHolder::Us { epoch } => {
                let last = self.epoch().replace(epoch);
                // A new tenure's head is known at once only after nobody: the first grant ever.
                // Stored before the grant is visible, so no answer pairs it with an old head.
                if last != Some(epoch) {
                    self.head_current.store(epoch == 1, Ordering::SeqCst);
                }
                *self.until() = Some(sent + self.ttl * 2 / 3);
                *self.other_holds() = None;
                Ok(if last == Some(epoch) {
                    LeaseChange::Renewed
                } else {
                    LeaseChange::Acquired { epoch }
                })
            }
            LeaseHolder::Other(holder) => {
                *self.until() = None;
                self.head_current.store(false, Ordering::SeqCst);
                *self.other_holds() = Some(sent);
                Ok(LeaseChange::Standby { holder, lost: was })
            }
        }
    }

    /// Stops sending and gives the lease up (a clean shutdown), so another replica takes over at
    /// its next attempt.
    pub(super) async fn release(&self) -> Result<bool, SigningStoreError> {
        // `head_current` stays: a grant of the same epoch (nobody held the lease meanwhile) resumes
        // this tenure; one of another epoch resets it.
        *self.until() = None;
        self.store.release_lease(self.chain_id, self.operator).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lease on a store that is never asked (`record` is what is tested).
    fn lease() -> SenderLease {
        let store = Arc::new(SigningStore::new(
            "postgres://nobody@127.0.0.1:1/none",
            "t",
            Duration::from_secs(1),
        ));
        SenderLease::new(
            store,
            1,
            Address::ZERO,
            Duration::from_secs(4),
            Duration::from_millis(100),
        )
    }

    /// A replica that took the lease over but could not finish the takeover (its journal
    /// unreadable) gives it up and retakes it: the next grant, of the same epoch, counts as a
    /// takeover again, so the open work is estimated afresh and the nonces repaired then. Found in
    /// review: it counted as a renewal, and the takeover was never finished. Also: the holder
    /// claims first only after its tenure's head is read, and only what was assigned after it.
    #[test]
    fn a_retaken_lease_counts_as_a_takeover_again_at_the_same_epoch() {
        let l = lease();
        let us = || Ok(LeaseHolder::Us { epoch: 2 });
        let now = Instant::now();
        assert_eq!(
            l.record(us(), now, false).unwrap(),
            LeaseChange::Acquired { epoch: 2 }
        );
        assert!(
            !l.claims_first(Some(10)),
            "the takeover head is not read yet"
        );
        l.took_over_at(5);
        assert!(l.claims_first(Some(10)) && !l.claims_first(Some(5)));
        assert!(!l.claims_first(None), "an answer not from a log");
        assert_eq!(l.record(us(), now, true).unwrap(), LeaseChange::Renewed);
        l.retake();
        assert!(!l.claims_first(Some(10)));
        assert_eq!(
            l.record(us(), now, false).unwrap(),
            LeaseChange::Acquired { epoch: 2 }
        );
        // Another replica holds it: nothing is claimed first any more.
        l.took_over_at(6);
        assert!(l.claims_first(Some(10)));
        assert!(matches!(
            l.record(Ok(LeaseHolder::Other(None)), now, true).unwrap(),
            LeaseChange::Standby { lost: true, .. }
        ));
        assert!(!l.claims_first(Some(10)));
    }
}
