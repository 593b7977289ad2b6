//! A pure-Rust model of the Staking contract's accounting: ERC4626-style share pools with a virtual
//! offset (`VIRTUAL_SHARES` shares, `VIRTUAL_ASSETS` asset), an active and an unbonding pool per
//! operator, queued withdrawals priced at completion, pro-rata slashing of both pools, and pool
//! write-offs (epochs) when a pool is emptied. Used by the differential test against revm.
//!
//! Amounts are `u128`; products are taken in 256 bits and floored, like `Math.mulDiv`.
//!
//! ```
//! use verinfer_sim::accounting::{Model, ModelError};
//! let mut m = Model::new(7 * 86_400);
//! m.register(1, 1_000)?;
//! m.delegate(2, 1, 500)?;
//! m.slash(1, 150)?;
//! assert_eq!(m.operator_stake(1), 1_350);
//! # Ok::<_, ModelError>(())
//! ```

use std::collections::BTreeMap;

/// Virtual shares of every pool (`Staking.VIRTUAL_SHARES`).
pub const VIRTUAL_SHARES: u128 = 1_000;
/// Virtual assets of every pool (`Staking.VIRTUAL_ASSETS`).
pub const VIRTUAL_ASSETS: u128 = 1;

/// Account / operator identifier in the model.
pub type Id = u32;

/// Why a model action is rejected (mirrors the contract's custom errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Zero amount or zero shares minted.
    #[error("zero amount")]
    ZeroAmount,
    /// Unknown operator.
    #[error("unknown operator {0}")]
    UnknownOperator(Id),
    /// Operator already registered.
    #[error("already registered {0}")]
    AlreadyRegistered(Id),
    /// Not enough shares.
    #[error("insufficient shares: requested {requested}, available {available}")]
    InsufficientShares {
        /// Requested.
        requested: u128,
        /// Available.
        available: u128,
    },
    /// Withdrawal unknown, not owned, completed or locked.
    #[error("withdrawal {0} not completable")]
    Withdrawal(u64),
    /// Slash larger than the operator's stake.
    #[error("slash exceeds stake")]
    SlashExceedsStake,
}

/// An ERC4626-style pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pool {
    /// Real assets.
    pub assets: u128,
    /// Real shares.
    pub shares: u128,
    /// Write-off epoch: shares minted in an earlier epoch are worthless.
    pub epoch: u32,
}

impl Pool {
    /// Shares for `assets`, rounded down.
    pub fn to_shares(&self, assets: u128) -> u128 {
        mul_div(
            assets,
            self.shares + VIRTUAL_SHARES,
            self.assets + VIRTUAL_ASSETS,
        )
    }
    /// Assets for `shares`, rounded down.
    pub fn to_assets(&self, shares: u128) -> u128 {
        mul_div(
            shares,
            self.assets + VIRTUAL_ASSETS,
            self.shares + VIRTUAL_SHARES,
        )
    }
    fn write_off_if_empty(&mut self) {
        if self.assets == 0 && self.shares != 0 {
            self.shares = 0;
            self.epoch += 1;
        }
    }
}

fn mul_div(a: u128, b: u128, d: u128) -> u128 {
    // Exact 256-bit product like `Math.mulDiv`; results here always fit in u128.
    use alloy::primitives::U256;
    (U256::from(a) * U256::from(b) / U256::from(d)).saturating_to()
}

/// A queued withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawal {
    /// Owner.
    pub owner: Id,
    /// Operator.
    pub operator: Id,
    /// Unbonding shares.
    pub shares: u128,
    /// Unbonding pool epoch at request time.
    pub epoch: u32,
    /// Unlock timestamp.
    pub unlock_at: u64,
    /// Completed already.
    pub completed: bool,
}

/// One operator's pools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operator {
    /// Active pool.
    pub active: Pool,
    /// Unbonding pool.
    pub unbonding: Pool,
}

/// The staking accounting model.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Operators by id.
    pub operators: BTreeMap<Id, Operator>,
    /// (operator, account) -> (shares, epoch).
    pub positions: BTreeMap<(Id, Id), (u128, u32)>,
    /// Withdrawals; id = index + 1.
    pub withdrawals: Vec<Withdrawal>,
    /// Current timestamp.
    pub now: u64,
    /// Unbonding delay in seconds.
    pub unbonding_delay: u64,
}

impl Model {
    /// An empty model with the given unbonding delay.
    pub fn new(unbonding_delay: u64) -> Self {
        Self {
            unbonding_delay,
            ..Default::default()
        }
    }

    /// Registers `op` with `self_stake` (minimum-stake checks are left to the contract).
    pub fn register(&mut self, op: Id, self_stake: u128) -> Result<u128, ModelError> {
        if self.operators.contains_key(&op) {
            return Err(ModelError::AlreadyRegistered(op));
        }
        if self_stake == 0 {
            return Err(ModelError::ZeroAmount);
        }
        self.operators.insert(op, Operator::default());
        self.mint(op, op, self_stake)
    }

    /// Delegates `assets` from `account` to `op`.
    pub fn delegate(&mut self, account: Id, op: Id, assets: u128) -> Result<u128, ModelError> {
        if assets == 0 {
            return Err(ModelError::ZeroAmount);
        }
        if !self.operators.contains_key(&op) {
            return Err(ModelError::UnknownOperator(op));
        }
        self.mint(account, op, assets)
    }

    fn mint(&mut self, account: Id, op: Id, assets: u128) -> Result<u128, ModelError> {
        let o = self
            .operators
            .get_mut(&op)
            .ok_or(ModelError::UnknownOperator(op))?;
        let shares = o.active.to_shares(assets);
        if shares == 0 {
            return Err(ModelError::ZeroAmount);
        }
        o.active.assets += assets;
        o.active.shares += shares;
        let epoch = o.active.epoch;
        let pos = self.positions.entry((op, account)).or_insert((0, epoch));
        let held = if pos.1 == epoch { pos.0 } else { 0 };
        *pos = (held + shares, epoch);
        Ok(shares)
    }

    /// Active shares of `account` with `op`.
    pub fn shares_of(&self, op: Id, account: Id) -> u128 {
        match (self.operators.get(&op), self.positions.get(&(op, account))) {
            (Some(o), Some((s, e))) if *e == o.active.epoch => *s,
            _ => 0,
        }
    }

    /// Moves `shares` of `account`'s active position with `op` into the unbonding queue.
    pub fn request_unstake(
        &mut self,
        account: Id,
        op: Id,
        shares: u128,
    ) -> Result<u64, ModelError> {
        if shares == 0 {
            return Err(ModelError::ZeroAmount);
        }
        if !self.operators.contains_key(&op) {
            return Err(ModelError::UnknownOperator(op));
        }
        let available = self.shares_of(op, account);
        if shares > available {
            return Err(ModelError::InsufficientShares {
                requested: shares,
                available,
            });
        }
        let o = self
            .operators
            .get_mut(&op)
            .ok_or(ModelError::UnknownOperator(op))?;
        let assets = o.active.to_assets(shares);
        self.positions
            .insert((op, account), (available - shares, o.active.epoch));
        o.active.shares -= shares;
        o.active.assets -= assets;
        o.active.write_off_if_empty();
        let ushares = o.unbonding.to_shares(assets);
        o.unbonding.assets += assets;
        o.unbonding.shares += ushares;
        self.withdrawals.push(Withdrawal {
            owner: account,
            operator: op,
            shares: ushares,
            epoch: o.unbonding.epoch,
            unlock_at: self.now + self.unbonding_delay,
            completed: false,
        });
        Ok(self.withdrawals.len() as u64)
    }

    /// Completes withdrawal `id` (1-based) for `account`, returning the assets paid.
    pub fn complete_unstake(&mut self, account: Id, id: u64) -> Result<u128, ModelError> {
        let idx = usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .ok_or(ModelError::Withdrawal(id))?;
        let now = self.now;
        let w = self
            .withdrawals
            .get_mut(idx)
            .ok_or(ModelError::Withdrawal(id))?;
        if w.owner != account || w.completed || now < w.unlock_at {
            return Err(ModelError::Withdrawal(id));
        }
        w.completed = true;
        let w = *w;
        let o = self
            .operators
            .get_mut(&w.operator)
            .ok_or(ModelError::UnknownOperator(w.operator))?;
        if w.epoch != o.unbonding.epoch {
            return Ok(0);
        }
        let assets = o.unbonding.to_assets(w.shares);
        o.unbonding.shares -= w.shares;
        o.unbonding.assets -= assets;
        o.unbonding.write_off_if_empty();
        Ok(assets)
    }

    /// Slashes exactly `amount` from `op`, pro rata over the active and unbonding pools.
    pub fn slash(&mut self, op: Id, amount: u128) -> Result<(u128, u128), ModelError> {
        if amount == 0 {
            return Err(ModelError::ZeroAmount);
        }
        let o = self
            .operators
            .get_mut(&op)
            .ok_or(ModelError::UnknownOperator(op))?;
        let available = o.active.assets + o.unbonding.assets;
        if amount > available {
            return Err(ModelError::SlashExceedsStake);
        }
        let from_unbonding = mul_div(amount, o.unbonding.assets, available);
        let from_active = amount - from_unbonding;
        o.active.assets -= from_active;
        o.unbonding.assets -= from_unbonding;
        o.active.write_off_if_empty();
        o.unbonding.write_off_if_empty();
        Ok((from_active, from_unbonding))
    }

    /// Active + unbonding assets of `op`.
    pub fn slashable(&self, op: Id) -> u128 {
        self.operators
            .get(&op)
            .map_or(0, |o| o.active.assets + o.unbonding.assets)
    }

    /// Active assets of `op` (`Staking.operatorStake`).
    pub fn operator_stake(&self, op: Id) -> u128 {
        self.operators.get(&op).map_or(0, |o| o.active.assets)
    }

    /// Asset value of `account`'s active shares with `op`.
    pub fn assets_of(&self, op: Id, account: Id) -> u128 {
        self.operators
            .get(&op)
            .map_or(0, |o| o.active.to_assets(self.shares_of(op, account)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstake_then_slash_hits_queue_pro_rata() {
        let mut m = Model::new(100);
        m.register(1, 1_000).unwrap();
        let s = m.shares_of(1, 1);
        m.request_unstake(1, 1, s / 2).unwrap();
        let (a, u) = m.slash(1, 100).unwrap();
        assert_eq!(a + u, 100);
        assert_eq!(u, 50);
        assert!(m.complete_unstake(1, 1).is_err());
        m.now = 100;
        assert_eq!(m.complete_unstake(1, 1).unwrap(), 450);
    }

    #[test]
    fn slashing_everything_writes_pools_off() {
        let mut m = Model::new(100);
        m.register(1, 1_000).unwrap();
        m.slash(1, 1_000).unwrap();
        assert_eq!(m.shares_of(1, 1), 0);
        assert_eq!(m.operators[&1].active.epoch, 1);
    }
}
