//! Who stands behind an account at a decision, and with what capital, from the logs' history.
//!
//! - person: the caller's own map first (a simulator knows which accounts are one staker), then the
//!   identity the account was linked to at the block (`IdentityRegistry.AccountLinked` /
//!   `AccountUnlinked`), else the account itself;
//! - capital: an account's stake as `QuadraticVotes` last observed it (`StakeObserved.newStake`), an
//!   operator's stake as the registry last weighed it (`OperatorServing` / `OperatorWeightUpdated`,
//!   the largest over its models).

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolEvent;
use verinfer_bindings::units::tokens_f64;
use verinfer_bindings::{IdentityRegistry, InferenceRegistry, QuadraticVotes};

use crate::record::{ChainLog, Person, Role};

/// A value's history: `(block, position in the log list, value)` in chain order.
type History<T> = Vec<(u64, usize, T)>;

fn at<T: Clone>(h: Option<&History<T>>, block: u64, pos: usize) -> Option<T> {
    h?.iter()
        .rev()
        .find(|(b, p, _)| (*b, *p) <= (block, pos))
        .map(|(_, _, v)| v.clone())
}

/// Persons and capital of accounts over a run, from its logs.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// The caller's own account → person map (takes precedence over identities).
    pub persons: BTreeMap<Address, Person>,
    identity: HashMap<Address, History<Option<U256>>>,
    stake: HashMap<Address, History<U256>>,
    operator_weight: HashMap<Address, History<(alloy::primitives::B256, U256)>>,
}

impl Resolver {
    /// Reads the link, stake and weight history from `logs` (in chain order); `persons` is the
    /// caller's own map.
    pub fn new(logs: &[ChainLog], persons: BTreeMap<Address, Person>) -> Self {
        let mut r = Self {
            persons,
            ..Self::default()
        };
        for (pos, l) in logs.iter().enumerate() {
            let Some(topic) = l.log.topics().first() else {
                continue;
            };
            match *topic {
                IdentityRegistry::AccountLinked::SIGNATURE_HASH => {
                    if let Ok(e) = IdentityRegistry::AccountLinked::decode_log(&l.log) {
                        r.identity.entry(e.account).or_default().push((
                            l.block,
                            pos,
                            Some(e.identityId),
                        ));
                    }
                }
                IdentityRegistry::AccountUnlinked::SIGNATURE_HASH => {
                    if let Ok(e) = IdentityRegistry::AccountUnlinked::decode_log(&l.log) {
                        r.identity
                            .entry(e.account)
                            .or_default()
                            .push((l.block, pos, None));
                    }
                }
                QuadraticVotes::StakeObserved::SIGNATURE_HASH => {
                    if let Ok(e) = QuadraticVotes::StakeObserved::decode_log(&l.log) {
                        r.stake
                            .entry(e.account)
                            .or_default()
                            .push((l.block, pos, e.newStake));
                    }
                }
                InferenceRegistry::OperatorServing::SIGNATURE_HASH => {
                    if let Ok(e) = InferenceRegistry::OperatorServing::decode_log(&l.log) {
                        r.operator_weight.entry(e.operator).or_default().push((
                            l.block,
                            pos,
                            (e.modelId, e.weight),
                        ));
                    }
                }
                InferenceRegistry::OperatorWeightUpdated::SIGNATURE_HASH => {
                    if let Ok(e) = InferenceRegistry::OperatorWeightUpdated::decode_log(&l.log) {
                        r.operator_weight.entry(e.operator).or_default().push((
                            l.block,
                            pos,
                            (e.modelId, e.weight),
                        ));
                    }
                }
                _ => {}
            }
        }
        r
    }

    /// The person behind `account` at log position `pos` of block `block`.
    pub fn person(&self, account: Address, block: u64, pos: usize) -> Person {
        if let Some(p) = self.persons.get(&account) {
            return p.clone();
        }
        match at(self.identity.get(&account), block, pos).flatten() {
            Some(id) => Person::Identity(id),
            None => Person::Account(account),
        }
    }

    /// The capital of `account` acting as `role` at that point, tokens (0 when no history).
    pub fn capital(&self, account: Address, role: Role, block: u64, pos: usize) -> f64 {
        match role {
            Role::Operator => {
                // The latest weight of each model the operator serves; its stake is the largest.
                let Some(h) = self.operator_weight.get(&account) else {
                    return 0.0;
                };
                let mut latest: BTreeMap<alloy::primitives::B256, U256> = BTreeMap::new();
                for (b, p, (model, w)) in h {
                    if (*b, *p) <= (block, pos) {
                        latest.insert(*model, *w);
                    }
                }
                latest.values().max().copied().map_or(0.0, tokens_f64)
            }
            _ => at(self.stake.get(&account), block, pos).map_or(0.0, tokens_f64),
        }
    }
}
