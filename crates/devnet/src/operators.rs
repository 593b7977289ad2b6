//! Phase 3, register operators: each funded by the deployer, registered with its self-stake and
//! serving the built-in model; hot keys that watch get gas and a challenge bond.

use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;
use verinfer_bindings::units::{format_tokens, tokens};
use verinfer_bindings::{Staking, VerinferToken};
use verinfer_client::Client;
use verinfer_keeper::attest::HotKey;
use verinfer_keeper::config::Misbehaviour;

use crate::config::Progress;
use crate::deploy::Deployment;
use crate::error::DevnetError;
use crate::fixture::Devnet;

/// Wei given to a hot key for gas (1,000 ether).
pub const HOT_KEY_WEI: u128 = 1_000 * 10u128.pow(18);

/// How an operator behaves during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Its keeper answers honestly.
    Honest,
    /// Its keeper signs two outputs for one request (and is reported for it).
    Equivocate,
    /// It never starts a keeper, so it misses its assignments (and is reported for it).
    Offline,
}

impl Behaviour {
    /// The name the report uses: `none`, `equivocate` or `offline`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "none",
            Self::Equivocate => "equivocate",
            Self::Offline => "offline",
        }
    }

    /// The devnet's behaviour of operator `index` of `operators`, on a model assigning `k` per
    /// request: the last is offline (missed assignments cost a slash but no jail), operator 1
    /// equivocates, but only when jailing it still leaves `k` operators to assign (`operators > k`);
    /// with fewer, every request would revert with `InsufficientOperators` once it is jailed, so
    /// there is no equivocator. The rest are honest.
    pub fn of(index: usize, operators: usize, k: u8) -> Self {
        if index + 1 == operators {
            Self::Offline
        } else if index == 1 && operators > usize::from(k) {
            Self::Equivocate
        } else {
            Self::Honest
        }
    }

    /// The keeper's misbehaviour setting (an offline operator has no keeper).
    pub fn misbehaviour(self) -> Misbehaviour {
        match self {
            Self::Equivocate => Misbehaviour::Equivocate,
            Self::Honest | Self::Offline => Misbehaviour::None,
        }
    }
}

/// An operator to register.
#[derive(Debug, Clone)]
pub struct OperatorSpec {
    /// The cold owner key (registers and stakes).
    pub owner: PrivateKeySigner,
    /// The hot key its keeper signs and sends with.
    pub hot: HotKey,
    /// Self-stake, wei.
    pub stake: U256,
    /// What its keeper does.
    pub behaviour: Behaviour,
    /// Tokens (wei) given to the hot key for challenge bonds, with gas and the registry's allowance;
    /// `None` leaves the hot key as it is.
    pub bond: Option<U256>,
}

/// A registered operator.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Its index (`op<i>` in the report).
    pub index: usize,
    /// The owner, as a sender.
    pub owner: Client,
    /// The hot key.
    pub hot: HotKey,
    /// What its keeper does.
    pub behaviour: Behaviour,
    /// `Staking.operatorStake` right after registration.
    pub stake_before: U256,
}

impl Operator {
    /// The operator's (owner's) address.
    pub fn address(&self) -> Address {
        self.owner.sender()
    }
}

impl Devnet {
    /// The devnet's operators: owner = anvil account `1 + i`, a fresh hot key with a 100-token bond,
    /// stakes `64,000 >> i` tokens (at least 2,000), behaving as [`Behaviour::of`] says: the last
    /// (smallest) offline, operator 1 equivocating when there are more operators than the model's `k`.
    pub fn operator_specs(&self) -> Result<Vec<OperatorSpec>, DevnetError> {
        let n = self.config().operators;
        let k = self.config().model.k;
        (0..n)
            .map(|i| {
                Ok(OperatorSpec {
                    owner: self.dev_signer(1 + i)?,
                    hot: HotKey::new(PrivateKeySigner::random()),
                    stake: tokens((64_000u64 >> i).max(2_000)),
                    behaviour: Behaviour::of(i, n, k),
                    bond: Some(tokens(100)),
                })
            })
            .collect()
    }

    /// Funds, registers and opts in each operator of `specs` to serve the model (and the LLM, when
    /// registered), in order.
    pub async fn register_operators(
        &self,
        d: &Deployment,
        specs: Vec<OperatorSpec>,
    ) -> Result<Vec<Operator>, DevnetError> {
        let token = d.contract("VerinferToken")?;
        let registry = d.contract("InferenceRegistry")?;
        let mut ops = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            let owner = self.client(spec.owner, &d.manifest_path).await?;
            d.deployer
                .send(
                    "fund",
                    token,
                    &VerinferToken::transferCall {
                        to: owner.sender(),
                        value: spec.stake,
                    },
                )
                .await?;
            if let Some(bond) = spec.bond {
                // hot keys pay gas and (watchers) challenge bonds
                self.provider()
                    .anvil_set_balance(spec.hot.address(), U256::from(HOT_KEY_WEI))
                    .await
                    .map_err(DevnetError::rpc("anvil_setBalance of a hot key"))?;
                d.deployer
                    .send(
                        "fund-bond",
                        token,
                        &VerinferToken::transferCall {
                            to: spec.hot.address(),
                            value: bond,
                        },
                    )
                    .await?;
            }
            owner
                .register_operator(spec.hot.address(), spec.stake)
                .await?;
            owner.serve_model(d.model_id).await?;
            if let Some(llm) = &d.llm {
                owner.serve_model(llm.model_id).await?;
            }
            self.say(Progress::Detail(format!(
                "operator {index}: owner {} signer {} stake {:>6} {}",
                owner.sender(),
                spec.hot.address(),
                format_tokens(spec.stake),
                match spec.behaviour {
                    Behaviour::Offline => "(offline: will miss assignments)",
                    Behaviour::Equivocate => "(misbehaving: equivocates)",
                    Behaviour::Honest => "",
                }
            )));
            ops.push((
                Operator {
                    index,
                    owner,
                    hot: spec.hot,
                    behaviour: spec.behaviour,
                    stake_before: U256::ZERO,
                },
                spec.bond.is_some(),
            ));
        }
        // hot keys approve the registry for challenge bonds
        for (op, bonded) in &ops {
            if *bonded {
                let hot = self
                    .client(op.hot.signer().clone(), &d.manifest_path)
                    .await?;
                hot.approve(registry, U256::MAX).await?;
            }
        }
        let staking = Staking::new(d.contract("Staking")?, self.provider());
        let mut out = Vec::with_capacity(ops.len());
        for (mut op, _) in ops {
            op.stake_before = staking
                .operatorStake(op.address())
                .call()
                .await
                .map_err(DevnetError::view("operatorStake"))?;
            out.push(op);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    /// For every operator count the devnet accepts, the operators left once the equivocator is jailed
    /// (the offline one is slashed, not jailed) still fill a request's `k` assignments, and the
    /// answering ones still reach quorum (regression: with 3 operators the equivocator was jailed and
    /// every later request reverted with `InsufficientOperators`).
    #[test]
    fn jailing_the_equivocator_leaves_enough_operators_for_every_request() {
        let m = ModelConfig::devnet();
        for n in 3..=8 {
            let behaviours: Vec<Behaviour> = (0..n).map(|i| Behaviour::of(i, n, m.k)).collect();
            let not_jailed = behaviours
                .iter()
                .filter(|b| **b != Behaviour::Equivocate)
                .count();
            assert!(
                not_jailed >= usize::from(m.k),
                "{n} operators: {behaviours:?}"
            );
            let answering = behaviours
                .iter()
                .filter(|b| **b == Behaviour::Honest)
                .count();
            assert!(
                answering >= usize::from(m.q),
                "{n} operators: {behaviours:?}"
            );
            assert_eq!(behaviours[n - 1], Behaviour::Offline);
        }
        assert!(!(0..3).any(|i| Behaviour::of(i, 3, m.k) == Behaviour::Equivocate));
        assert_eq!(Behaviour::of(1, 4, m.k), Behaviour::Equivocate);
    }
}
