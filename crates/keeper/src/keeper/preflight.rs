//! The operator's standing on chain, as the keeper needs it: checked before it starts
//! ([`Keeper::preflight`]) and re-read while it runs ([`Keeper::refresh_standing`], at most every
//! [`STANDING_REFRESH`]), which also keeps the hot key's gas gauge
//! (`verinfer_keeper_hot_key_balance_wei`) and `/health` up to date.
//!
//! A keeper refuses to start ([`PreflightError::Refused`]) when its operator is not registered, when
//! its hot key is not the operator's signer on chain (`Staking.signerOf`), when the operator serves
//! none of the keeper's models that are registered on chain, or when the hot key holds less gas than
//! `min_hot_key_balance_wei`. Softer problems (jailed, inactive, one configured model not served) let
//! it start; `/health` reports them until they are fixed, as it reports any problem that appears
//! while the keeper runs.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use verinfer_bindings::Staking;

use super::{Keeper, KeeperError};
use crate::backend::BackendError;
use crate::config::{Misbehaviour, DEV_CHAIN_ID};

/// How often a running keeper re-reads its standing (signer, jail, served models, gas).
pub const STANDING_REFRESH: Duration = Duration::from_secs(15);

/// Where one of the keeper's models stands on chain for its operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelState {
    /// Registered, live and served by the operator: it gets assignments.
    Served,
    /// Registered and live, but the operator has not opted in (`serveModel`).
    NotServed,
    /// Registered, then retired: no new requests.
    Retired,
    /// Not registered on this registry (wrong model id, or wrong deployment).
    Unregistered,
}

impl std::fmt::Display for ModelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Served => "served",
            Self::NotServed => "registered but not served by the operator",
            Self::Retired => "retired",
            Self::Unregistered => "not registered on this registry",
        })
    }
}

/// What the chain says about the operator and its hot key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// The operator (cold owner) the keeper answers for.
    pub operator: Address,
    /// The Staking contract the registry uses.
    pub staking: Address,
    /// The keeper's hot key.
    pub hot_key: Address,
    /// `Staking.operatorInfo(operator).registered`.
    pub registered: bool,
    /// The signer in force (`Staking.signerOf`; zero when unregistered).
    pub signer: Address,
    /// A pending signer rotation: the new signer and when it takes over (unix seconds).
    pub pending_signer: Option<(Address, u64)>,
    /// Jailed until (unix seconds), when jailed.
    pub jailed_until: Option<u64>,
    /// `Staking.isActiveOperator`: registered, not jailed, self-stake at the minimum.
    pub active: bool,
    /// Each model the keeper runs, and its state on chain.
    pub models: Vec<(B256, ModelState)>,
    /// The hot key's balance, wei.
    pub balance: U256,
    /// The configured gas floor, wei.
    pub min_balance: U256,
}

/// One problem with the operator's standing; each says how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The operator is not registered in Staking.
    #[error(
        "operator {operator} is not registered in Staking {staking}: register it with its owner key \
         (`verinfer operator register --signer {hot_key} --stake <tokens>`, docs/operator.md), or \
         check `operator` in the keeper config"
    )]
    NotRegistered {
        /// The operator.
        operator: Address,
        /// The Staking contract.
        staking: Address,
        /// The keeper's hot key (the signer to register).
        hot_key: Address,
    },
    /// The keeper's hot key is not the operator's signer, so the registry would refuse every
    /// attestation it signs.
    #[error(
        "the hot key {hot_key} is not operator {operator}'s signer: Staking.signerOf says \
         {on_chain}{}; load the registered signer's key (`[key]` in the keeper config), or rotate the \
         signer with the owner key (`verinfer operator rotate-key --new-signer {hot_key}`)",
        .pending.map(|(who, at)| format!(" (rotation to {who} pending until {at})")).unwrap_or_default()
    )]
    SignerMismatch {
        /// The operator.
        operator: Address,
        /// The keeper's hot key.
        hot_key: Address,
        /// The signer in force.
        on_chain: Address,
        /// A pending rotation: the new signer and when it takes over (unix seconds).
        pending: Option<(Address, u64)>,
    },
    /// None of the keeper's models is registered on chain and served by the operator: the keeper
    /// would never be assigned anything.
    #[error(
        "operator {operator} serves none of this keeper's models on chain ({}): opt in with the owner \
         key (`verinfer operator serve --model <id>`), or fix `model_id` of the `[[backend]]`",
        describe(.models)
    )]
    ServesNothing {
        /// The operator.
        operator: Address,
        /// Each configured model and its state.
        models: Vec<(B256, ModelState)>,
    },
    /// The hot key cannot pay for much gas.
    #[error(
        "the hot key {hot_key} holds {balance} wei, below the gas floor of {floor} wei \
         (`min_hot_key_balance_wei`): send it native tokens for gas"
    )]
    LowGas {
        /// The hot key.
        hot_key: Address,
        /// Its balance, wei.
        balance: U256,
        /// The floor, wei.
        floor: U256,
    },
    /// The operator is jailed: it gets no assignments until it is unjailed.
    #[error(
        "operator {operator} is jailed until {until} (unix time) and gets no assignments; \
         `Staking.unjail()` with the owner key once the term is over"
    )]
    Jailed {
        /// The operator.
        operator: Address,
        /// End of the term (unix seconds).
        until: u64,
    },
    /// Registered and not jailed, but not active (self-stake below `Staking.minOperatorStake`).
    #[error(
        "operator {operator} is registered but not active: its self-stake is below Staking's minimum \
         (`verinfer operator stake`)"
    )]
    Inactive {
        /// The operator.
        operator: Address,
    },
    /// One configured model is not served (others are): its backend is idle.
    #[error(
        "model {model} of this keeper's backends is {state}: it gets no assignments for it \
         (`verinfer operator serve --model {model}`, or remove the backend)"
    )]
    ModelNotServed {
        /// The model.
        model: B256,
        /// Its state.
        state: ModelState,
    },
}

fn describe(models: &[(B256, ModelState)]) -> String {
    if models.is_empty() {
        return "no backend configured".into();
    }
    models
        .iter()
        .map(|(m, s)| format!("{m}: {s}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Problem {
    /// Whether the keeper refuses to start over it (the rest only make `/health` unhealthy).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::NotRegistered { .. }
                | Self::SignerMismatch { .. }
                | Self::ServesNothing { .. }
                | Self::LowGas { .. }
        )
    }
}

impl Standing {
    /// Every problem with this standing, the fatal ones first.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if !self.registered {
            out.push(Problem::NotRegistered {
                operator: self.operator,
                staking: self.staking,
                hot_key: self.hot_key,
            });
        } else if self.signer != self.hot_key {
            out.push(Problem::SignerMismatch {
                operator: self.operator,
                hot_key: self.hot_key,
                on_chain: self.signer,
                pending: self.pending_signer,
            });
        }
        let served = self.models.iter().any(|(_, s)| *s == ModelState::Served);
        if !served {
            out.push(Problem::ServesNothing {
                operator: self.operator,
                models: self.models.clone(),
            });
        }
        if self.balance < self.min_balance {
            out.push(Problem::LowGas {
                hot_key: self.hot_key,
                balance: self.balance,
                floor: self.min_balance,
            });
        }
        if let Some(until) = self.jailed_until {
            out.push(Problem::Jailed {
                operator: self.operator,
                until,
            });
        } else if self.registered && !self.active {
            out.push(Problem::Inactive {
                operator: self.operator,
            });
        }
        if served {
            for (model, state) in &self.models {
                if *state != ModelState::Served {
                    out.push(Problem::ModelNotServed {
                        model: *model,
                        state: *state,
                    });
                }
            }
        }
        out
    }
}

/// Why a keeper does not start.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The operator's standing has problems the keeper cannot work around (listed, each with its
    /// fix).
    #[error(
        "the keeper refuses to start: {}",
        .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; also, ")
    )]
    Refused {
        /// The fatal problems.
        problems: Vec<Problem>,
    },
    /// A backend's output depends on the request before it
    /// ([`BackendError::HistoryDependent`]): the keeper would attest texts honest operators do not.
    #[error("the keeper refuses to start: model {model}: {source}")]
    HistoryDependent {
        /// The model the backend serves.
        model: B256,
        /// What the check saw.
        source: Box<BackendError>,
    },
    /// A misbehaving keeper (devnet and tests only) pointed at a chain that is not a development
    /// chain.
    #[error(
        "deliberate misbehaviour ({misbehave:?}) is for development chains (chain id {DEV_CHAIN_ID}); \
         this node is chain {chain_id}"
    )]
    MisbehaviourOffDevnet {
        /// The configured misbehaviour.
        misbehave: Misbehaviour,
        /// The node's chain id.
        chain_id: u64,
    },
}

/// Refuses deliberate misbehaviour anywhere but on a development chain.
pub(super) fn check_misbehaviour(
    misbehave: Misbehaviour,
    chain_id: u64,
) -> Result<(), PreflightError> {
    if misbehave != Misbehaviour::None && chain_id != DEV_CHAIN_ID {
        return Err(PreflightError::MisbehaviourOffDevnet {
            misbehave,
            chain_id,
        });
    }
    Ok(())
}

impl Keeper {
    /// Reads the operator's standing from the chain.
    pub async fn standing(&self) -> Result<Standing, KeeperError> {
        let rpc = super::rpc_err;
        let registry = self.registry();
        let operator = self.cfg.operator;
        let hot_key = self.key.address();
        let staking_addr = registry.staking().call().await.map_err(rpc("staking"))?;
        let staking = Staking::new(staking_addr, &self.provider);
        let info = staking
            .operatorInfo(operator)
            .call()
            .await
            .map_err(rpc("operatorInfo"))?;
        let active = staking
            .isActiveOperator(operator)
            .call()
            .await
            .map_err(rpc("isActiveOperator"))?;
        let served = registry
            .servedModels(operator)
            .call()
            .await
            .map_err(rpc("servedModels"))?;
        let mut models = Vec::new();
        for id in self.backends.model_ids() {
            let m = registry.model(id).call().await.map_err(rpc("model"))?;
            let state = if !m.registered {
                ModelState::Unregistered
            } else if m.retired {
                ModelState::Retired
            } else if served.contains(&id) {
                ModelState::Served
            } else {
                ModelState::NotServed
            };
            models.push((id, state));
        }
        let balance = self
            .provider
            .get_balance(hot_key)
            .await
            .map_err(|e| KeeperError::Rpc {
                op: "eth_getBalance",
                msg: e.to_string(),
            })?;
        Ok(Standing {
            operator,
            staking: staking_addr,
            hot_key,
            registered: info.registered,
            signer: info.signer,
            pending_signer: (info.pendingSigner != Address::ZERO)
                .then(|| (info.pendingSigner, info.signerActivatesAt.to::<u64>())),
            jailed_until: info.jailed.then(|| info.jailedUntil.to::<u64>()),
            active,
            models,
            balance,
            min_balance: U256::from(self.cfg.min_hot_key_balance_wei),
        })
    }

    /// Checks the operator's standing before the keeper starts: refuses
    /// ([`PreflightError::Refused`], every fatal problem listed with its fix) when the operator is
    /// not registered, the hot key is not its signer, it serves none of the keeper's models, or the
    /// hot key is below its gas floor; logs the softer problems (jailed, inactive, a model not
    /// served), which `/health` reports. Records the gas gauge. Then checks that each backend's
    /// output depends on its input alone ([`InferenceBackend::check_history`]) and refuses
    /// ([`PreflightError::HistoryDependent`]) when one's does not; a backend it cannot reach now is
    /// logged and not held against the start (`/health` reports it).
    ///
    /// [`InferenceBackend::check_history`]: crate::backend::InferenceBackend::check_history
    pub async fn preflight(&self) -> Result<Standing, KeeperError> {
        let standing = self.standing().await?;
        let problems = standing.problems();
        self.record_standing(&standing, &problems);
        let (fatal, soft): (Vec<Problem>, Vec<Problem>) =
            problems.into_iter().partition(Problem::is_fatal);
        for p in &soft {
            tracing::warn!(keeper = %self.name, problem = %p, "starting, but unhealthy until fixed");
        }
        if !fatal.is_empty() {
            return Err(PreflightError::Refused { problems: fatal }.into());
        }
        for (model, e) in self.backends.check_history().await {
            if matches!(e, BackendError::HistoryDependent { .. }) {
                let source = Box::new(e);
                return Err(PreflightError::HistoryDependent { model, source }.into());
            }
            tracing::warn!(keeper = %self.name, %model, error = %e,
                "cannot check now that the backend's output depends on the input alone; starting");
        }
        Ok(standing)
    }

    /// Re-reads the standing when [`STANDING_REFRESH`] has passed since the last read (the gas
    /// gauge, `/health`); a problem that appears or goes away is logged once. A failed read is
    /// logged and leaves the last standing in place.
    pub(super) async fn refresh_standing(&mut self) {
        if self
            .standing_read
            .is_some_and(|at| at.elapsed() < STANDING_REFRESH)
        {
            return;
        }
        self.standing_read = Some(Instant::now());
        match self.standing().await {
            Ok(standing) => {
                let problems = standing.problems();
                if self.record_standing(&standing, &problems) {
                    if problems.is_empty() {
                        tracing::info!(keeper = %self.name, "operator standing is fine again");
                    }
                    for p in &problems {
                        tracing::warn!(keeper = %self.name, problem = %p, "operator standing");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(keeper = %self.name, error = %e, "cannot read the operator's standing")
            }
        }
    }

    /// Puts the standing into the metrics (gas gauge, `/health` reasons); returns whether the
    /// problems changed.
    fn record_standing(&self, standing: &Standing, problems: &[Problem]) -> bool {
        self.metrics.set_hot_key_balance(standing.balance);
        self.metrics
            .set_standing(problems.iter().map(ToString::to_string).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fine() -> Standing {
        Standing {
            operator: Address::repeat_byte(1),
            staking: Address::repeat_byte(2),
            hot_key: Address::repeat_byte(3),
            registered: true,
            signer: Address::repeat_byte(3),
            pending_signer: None,
            jailed_until: None,
            active: true,
            models: vec![(B256::repeat_byte(9), ModelState::Served)],
            balance: U256::from(10u64.pow(18)),
            min_balance: U256::from(10u64.pow(16)),
        }
    }

    /// The judgement of a standing, problem by problem: which refuse the start, which only make the
    /// keeper unhealthy, and that a sound standing has none.
    #[test]
    fn each_problem_is_found_and_classed() {
        assert_eq!(fine().problems(), Vec::<Problem>::new());
        let jailed = Standing {
            jailed_until: Some(99),
            active: false,
            ..fine()
        };
        assert_eq!(
            jailed.problems(),
            [Problem::Jailed {
                operator: Address::repeat_byte(1),
                until: 99
            }]
        );
        assert!(!jailed.problems()[0].is_fatal());
        let extra = Standing {
            models: vec![
                (B256::repeat_byte(9), ModelState::Served),
                (B256::repeat_byte(8), ModelState::Retired),
            ],
            ..fine()
        };
        assert!(matches!(
            extra.problems()[..],
            [Problem::ModelNotServed {
                state: ModelState::Retired,
                ..
            }]
        ));
        assert!(!extra.problems()[0].is_fatal());
        let none = Standing {
            models: vec![(B256::repeat_byte(9), ModelState::Unregistered)],
            ..fine()
        };
        let p = none.problems();
        assert!(matches!(p[..], [Problem::ServesNothing { .. }]), "{p:?}");
        assert!(p[0].to_string().contains("not registered on this registry"));
        let poor = Standing {
            balance: U256::from(5u64),
            ..fine()
        };
        assert!(matches!(poor.problems()[..], [Problem::LowGas { .. }]));
        let unregistered = Standing {
            registered: false,
            signer: Address::ZERO,
            active: false,
            ..fine()
        };
        let p = unregistered.problems();
        assert!(matches!(p[..], [Problem::NotRegistered { .. }]), "{p:?}");
        assert!(p.iter().all(Problem::is_fatal));
    }

    /// Only a development chain runs a misbehaving keeper.
    #[test]
    fn misbehaviour_is_refused_off_a_development_chain() {
        assert!(check_misbehaviour(Misbehaviour::None, 1).is_ok());
        assert!(check_misbehaviour(Misbehaviour::Equivocate, DEV_CHAIN_ID).is_ok());
        let e = check_misbehaviour(Misbehaviour::WrongResult, 84532).unwrap_err();
        assert!(
            matches!(
                e,
                PreflightError::MisbehaviourOffDevnet {
                    chain_id: 84532,
                    ..
                }
            ),
            "{e}"
        );
    }
}
