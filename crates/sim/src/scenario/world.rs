//! The scenario's on-chain world: the deployed suite, its two models (the deterministic one is the
//! digits classifier, a real integer MLP the referee can check; the optimistic one is opaque), the
//! operators with their hot signer keys, and the stakers with their identities and delegations.
//!
//! People ("entities") are numbered: `0..stakers.count` are stakers (largest first, so whales come
//! first), then one per operator. A person may own several accounts (a splitting whale); every
//! measurement sums over a person's accounts.

use alloy::{
    primitives::{keccak256, Address, Bytes, B256, U256},
    signers::{local::PrivateKeySigner, SignerSync},
    sol_types::{eip712_domain, Eip712Domain, SolStruct},
};
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;
use verinfer_bindings::{
    inference_registry::IInferenceRegistry::{Attestation, ModelParams},
    IdentityRegistry, InferenceRegistry, QuadraticVotes, Staking, VerinferToken,
};

use verinfer_bindings::units::{tokens_f64, wei_f64};

use super::{
    agent, issuers::IssuerPlan, referee::DetModel, traffic::BLOCK_SECONDS, Behaviour, Distribution,
    ModelConfig, ModelReport, Scenario, ScenarioError, WhaleStrategy,
};
use crate::{Sim, SimError, SIM_CHAIN_ID};
use verinfer_bindings::units::TOKEN;
use verinfer_deploy::plan::DeployParams;

/// Request time-to-live, seconds.
pub(crate) const REQUEST_TTL: u64 = 3_600;

/// Addresses of the deployed suite.
pub(crate) struct Contracts {
    pub token: Address,
    pub staking: Address,
    pub slasher: Address,
    pub registry: Address,
    pub identity: Address,
    pub votes: Address,
    pub governor: Address,
    pub disputes: Address,
    pub referee: Address,
}

/// An operator: cold owner address, hot signer key, behaviour.
pub(crate) struct Op {
    pub owner: Address,
    pub key: PrivateKeySigner,
    pub behaviour: Behaviour,
    pub entity: usize,
    pub slashes: u64,
    pub slashed_this_epoch: bool,
}

/// A staking account of a person.
pub(crate) struct Account {
    pub address: Address,
    pub entity: usize,
    pub yield_following: bool,
    /// Operator index currently delegated to (`None` once its stake left and could not re-enter).
    pub operator: Option<usize>,
    /// Index in [`World::issuers`] of the issuer of the account's identity (`None`: unattested).
    pub issuer: Option<usize>,
}

/// Stake and voice per person, and the accounts that hold voice (who can vote).
pub(crate) struct Measure {
    /// Tokens per person (`Staking.stakeOf` summed over the person's accounts).
    pub stake: Vec<f64>,
    /// Voice per person (`QuadraticVotes.getVotes` summed), in sqrt-token units.
    pub voice: Vec<f64>,
    /// Accounts with non-zero voice and their person.
    pub holders: Vec<(Address, usize)>,
}

/// The deployed suite with its population.
pub(crate) struct World {
    pub sim: Sim,
    pub c: Contracts,
    pub params: DeployParams,
    pub deployer: Address,
    /// Sends requests and pays fees.
    pub client: Address,
    /// Re-executes answers, reports faults, challenges wrong results, finalizes. Linked to an identity
    /// of its own (a challenger must be).
    pub watcher: Address,
    /// Approved identity issuer (one identity per person unless the scenario says otherwise); the
    /// first of [`issuers`](Self::issuers).
    pub issuer: Address,
    /// Every approved issuer: the honest ones, then the captured one (`[issuers]`).
    pub issuers: Vec<Address>,
    pub det_model: B256,
    /// The deterministic model's network and inputs.
    pub det: DetModel,
    pub opt_model: B256,
    pub min_fee: U256,
    domain: Eip712Domain,
    pub ops: Vec<Op>,
    pub accounts: Vec<Account>,
    /// Number of people (stakers + operators).
    pub people: usize,
    /// Person is an operator owner in the cartel.
    pub cartel_person: Vec<bool>,
    /// Seconds already spent inside the dispute vote opened last (a drafted jury's commit period,
    /// `jury::reveal`); `advance_past_dispute_vote` advances only the rest and resets it.
    pub dispute_vote_elapsed: u64,
}

/// Voice units (sqrt of wei) to sqrt-token units.
pub(crate) fn voice_units(v: U256) -> f64 {
    let x: u128 = v.saturating_to();
    x as f64 / 1e9
}

impl World {
    /// Deploys the suite, registers the models and the operators, and stakes the population.
    pub fn build(
        scenario: &Scenario,
        rng: &mut ChaCha8Rng,
        bar: &indicatif::ProgressBar,
    ) -> Result<Self, ScenarioError> {
        let deployer = agent("deployer", 0);
        let mut sim = Sim::new();
        sim.record_logs(verinfer_authority::build::relevant_topics()); // for the authority ledger
        let params = scenario.deploy_params(deployer);
        sim.deploy_local(&params)?;
        let s = &sim.suite;
        let c = Contracts {
            token: s.token()?,
            staking: s.staking()?,
            slasher: s.slasher()?,
            registry: s.get("InferenceRegistry")?,
            identity: s.get("IdentityRegistry")?,
            votes: s.get("QuadraticVotes")?,
            governor: s.get("VerinferGovernor")?,
            disputes: s.get("DisputeGovernor")?,
            referee: s.get("Referee")?,
        };
        let domain = eip712_domain! {
            name: "verinfer",
            version: "1",
            chain_id: SIM_CHAIN_ID,
            verifying_contract: c.registry,
        };
        let mut w = Self {
            sim,
            c,
            params,
            deployer,
            client: agent("client", 0),
            watcher: agent("watcher", 0),
            issuer: agent("issuer", 0),
            issuers: Self::issuer_addresses(scenario),
            det_model: B256::ZERO,
            det: DetModel::builtin()?,
            opt_model: B256::ZERO,
            min_fee: U256::from(TOKEN / 100),
            domain,
            ops: Vec::new(),
            accounts: Vec::new(),
            people: scenario.stakers.count + scenario.operators.count,
            cartel_person: Vec::new(),
            dispute_vote_elapsed: 0,
        };
        w.setup_protocol(scenario)?;
        let plan = scenario
            .issuers
            .as_ref()
            .map(|cfg| IssuerPlan::draw(cfg, scenario));
        w.populate(scenario, rng, bar, plan.as_ref())?;
        Ok(w)
    }

    /// The scenario's issuers: `issuer 0`, `issuer 1`, ... for the honest ones, then `captured
    /// issuer` when there is one.
    fn issuer_addresses(scenario: &Scenario) -> Vec<Address> {
        let Some(cfg) = &scenario.issuers else {
            return vec![agent("issuer", 0)];
        };
        let mut all: Vec<Address> = (0..cfg.count).map(|i| agent("issuer", i)).collect();
        if cfg.captured.is_some() {
            all.push(agent("captured issuer", 0));
        }
        all
    }

    /// The models' parameters as the registry holds them.
    pub fn model_report(&mut self) -> Result<Vec<ModelReport>, SimError> {
        let mut out = Vec::new();
        for (name, id) in [
            ("deterministic", self.det_model),
            ("optimistic", self.opt_model),
        ] {
            let m = self.sim.view(
                self.deployer,
                self.c.registry,
                InferenceRegistry::modelCall { modelId: id },
            )?;
            out.push(ModelReport {
                model: name.into(),
                k: m.params.k,
                q: m.params.q,
                challenge_window: m.params.challengeWindow,
            });
        }
        Ok(out)
    }

    /// Models, issuer, client and watcher funds.
    fn setup_protocol(&mut self, scenario: &Scenario) -> Result<(), SimError> {
        let (d, c) = (self.deployer, &self.c);
        let (registry, identity) = (c.registry, c.identity);
        for issuer in self.issuers.clone() {
            self.sim
                .transact(d, identity, IdentityRegistry::approveIssuerCall { issuer })?;
        }
        let model = |mode: u8, c: ModelConfig| ModelParams {
            mode,
            k: c.k,
            q: c.q,
            challengeWindow: c.challenge_window,
            minStake: U256::from(1_000u128 * TOKEN),
            challengeBond: U256::from(10u128 * TOKEN),
            minFee: U256::from(TOKEN / 100),
        };
        self.det_model = self
            .sim
            .transact(
                d,
                registry,
                InferenceRegistry::registerModelCall {
                    weightsHash: self.det.mlp.weights_root(),
                    runtimeSpecHash: verinfer_mlp::IntMlp::runtime_spec_hash(),
                    params: model(0, scenario.models.deterministic),
                },
            )?
            .ret;
        self.opt_model = self
            .sim
            .transact(
                d,
                registry,
                InferenceRegistry::registerModelCall {
                    weightsHash: keccak256(b"sim optimistic model"),
                    runtimeSpecHash: keccak256(b"sim runtime"),
                    params: model(1, scenario.models.optimistic),
                },
            )?
            .ret;
        // Fees for every request, bonds for every challenge.
        let requests = scenario.epochs as u128 * scenario.traffic.requests_per_epoch as u128;
        let fees = U256::from(requests + 1) * self.min_fee;
        let bonds = U256::from(requests + 1) * U256::from(10u128 * TOKEN);
        for (who, amount) in [(self.client, fees), (self.watcher, bonds)] {
            self.fund(who, amount, registry)?;
        }
        // The DisputeGovernor takes a challenge only from an account linked to an identity (at the
        // block before the challenge), so that the challenger's whole identity is barred from voting.
        self.new_identity(self.watcher)?;
        Ok(())
    }

    /// Moves the clock past the end of a dispute vote opened now (`dispute_voting_period` seconds,
    /// plus one so that `block.timestamp > voteEnd`, less the [`dispute_vote_elapsed`] already
    /// spent in it), one block per [`BLOCK_SECONDS`].
    ///
    /// [`dispute_vote_elapsed`]: Self::dispute_vote_elapsed
    pub fn advance_past_dispute_vote(&mut self) {
        let spent = std::mem::take(&mut self.dispute_vote_elapsed);
        let secs = (u64::from(self.params.dispute_voting_period) + 1).saturating_sub(spent);
        self.sim.advance(secs.div_ceil(BLOCK_SECONDS), secs);
    }

    /// Mints `amount` to `who` and approves `spender` for it.
    pub fn fund(&mut self, who: Address, amount: U256, spender: Address) -> Result<(), SimError> {
        let token = self.c.token;
        self.sim.transact(
            self.deployer,
            token,
            VerinferToken::mintCall { to: who, amount },
        )?;
        self.sim.transact(
            who,
            token,
            VerinferToken::approveCall {
                spender,
                value: amount,
            },
        )?;
        Ok(())
    }

    /// Creates a fresh identity and links `account` to it; returns the identity id.
    pub fn new_identity(&mut self, account: Address) -> Result<U256, SimError> {
        self.new_identity_by(self.issuer, account)
    }

    /// [`new_identity`](Self::new_identity) from `issuer`.
    pub fn new_identity_by(&mut self, issuer: Address, account: Address) -> Result<U256, SimError> {
        let id = self
            .sim
            .transact(
                issuer,
                self.c.identity,
                IdentityRegistry::createIdentityCall {},
            )?
            .ret;
        self.link_by(issuer, account, id, None)?;
        Ok(id)
    }

    /// Links `account` to identity `id`: `member`, an account already linked to it, consents when the
    /// identity has accounts (joining an identity needs its consent), the issuer offers, the account
    /// accepts.
    pub fn link(
        &mut self,
        account: Address,
        id: U256,
        member: Option<Address>,
    ) -> Result<(), SimError> {
        self.link_by(self.issuer, account, id, member)
    }

    /// [`link`](Self::link) offered by `issuer` (the identity's issuer).
    pub fn link_by(
        &mut self,
        issuer: Address,
        account: Address,
        id: U256,
        member: Option<Address>,
    ) -> Result<(), SimError> {
        if let Some(member) = member {
            self.sim.transact(
                member,
                self.c.identity,
                IdentityRegistry::consentToLinkCall { account },
            )?;
        }
        self.sim.transact(
            issuer,
            self.c.identity,
            IdentityRegistry::offerLinkCall {
                account,
                identityId: id,
            },
        )?;
        self.sim.transact(
            account,
            self.c.identity,
            IdentityRegistry::acceptLinkCall { identityId: id },
        )?;
        Ok(())
    }

    /// Operators (with identities and hot keys) and stakers.
    fn populate(
        &mut self,
        scenario: &Scenario,
        rng: &mut ChaCha8Rng,
        bar: &indicatif::ProgressBar,
        plan: Option<&IssuerPlan>,
    ) -> Result<(), SimError> {
        let sc = &scenario.stakers;
        let mut stakes: Vec<f64> = (0..sc.count)
            .map(|_| match sc.distribution {
                Distribution::Pareto => {
                    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                    (sc.min_stake * u.powf(-1.0 / sc.alpha)).min(sc.max_stake)
                }
                Distribution::Uniform => rng.gen_range(sc.min_stake..=2.0 * sc.min_stake),
            })
            .collect();
        stakes.sort_by(|a, b| b.total_cmp(a)); // whales first

        let oc = &scenario.operators;
        let share = |x: f64| (x * oc.count as f64).round() as usize;
        let (n_lazy, n_equiv, n_cartel) =
            (share(oc.lazy), share(oc.equivocating), share(oc.cartel));
        let mut behaviours: Vec<Behaviour> = (0..oc.count)
            .map(|i| match i {
                i if i < n_lazy => Behaviour::Lazy,
                i if i < n_lazy + n_equiv => Behaviour::Equivocating,
                i if i < n_lazy + n_equiv + n_cartel => Behaviour::Cartel,
                _ => Behaviour::Honest,
            })
            .collect();
        behaviours.shuffle(rng);
        self.cartel_person = vec![false; self.people];
        let wc = &scenario.whales;
        let gather = wc.strategy == WhaleStrategy::Gather;
        // (owner, behaviour, person, self-stake)
        let mut roster: Vec<(Address, Behaviour, usize, f64)> = behaviours
            .iter()
            .enumerate()
            .map(|(i, b)| (agent("operator", i), *b, sc.count + i, oc.self_stake))
            .collect();
        let mut whale_ops = Vec::new();
        if gather {
            for (w, stake) in stakes.iter().enumerate().take(wc.count) {
                whale_ops.push(roster.len());
                roster.push((agent("staker", w), Behaviour::Whale, w, *stake));
            }
        }
        let staking = self.c.staking;
        for (i, (owner, behaviour, person, self_stake)) in roster.into_iter().enumerate() {
            let key = PrivateKeySigner::from_bytes(&keccak256(
                [b"verinfer sim signer".as_slice(), &(i as u64).to_be_bytes()].concat(),
            ))
            .map_err(|e| SimError::Evm {
                label: "signer key".into(),
                message: e.to_string(),
            })?;
            self.register_operator(owner, &key, self_stake)?;
            if behaviour == Behaviour::Cartel {
                self.cartel_person[person] = true;
            }
            self.ops.push(Op {
                owner,
                key,
                behaviour,
                entity: person,
                slashes: 0,
                slashed_this_epoch: false,
            });
            bar.inc(1);
        }

        for (i, stake) in stakes.iter().enumerate() {
            let is_whale = i < wc.count;
            if is_whale && gather {
                // Self-stake already placed as an operator; the whale is one person.
                self.accounts.push(Account {
                    address: agent("staker", i),
                    entity: i,
                    yield_following: false,
                    operator: Some(whale_ops[i]),
                    issuer: None,
                });
                bar.inc(1);
                continue;
            }
            let whale_split = is_whale && wc.strategy == WhaleStrategy::Split;
            let parts = if whale_split { wc.split_into } else { 1 };
            let attested = rng.gen_bool(sc.attested_share);
            let yield_following = rng.gen_bool(sc.yield_following);
            // The issuer of each account's identity: the `[issuers]` plan, or the single issuer.
            // Honest issuer: one identity per person, carried by the first account; a weak issuer
            // (split_attested) gives every split account an identity of its own.
            let issued: Vec<Option<usize>> = match plan {
                Some(plan) if !whale_split => plan.persons[i].clone(),
                _ => (0..parts)
                    .map(|p| {
                        let identity = if parts > 1 {
                            p == 0 || wc.split_attested
                        } else {
                            attested
                        };
                        identity.then_some(0)
                    })
                    .collect(),
            };
            let parts = issued.len();
            for (p, issuer) in issued.into_iter().enumerate() {
                let address = if p == 0 {
                    agent("staker", i)
                } else {
                    agent(&format!("sybil{i}-"), p)
                };
                let operator = if !whale_ops.is_empty() && rng.gen_bool(wc.gather_share) {
                    whale_ops[rng.gen_range(0..whale_ops.len())]
                } else {
                    rng.gen_range(0..oc.count)
                };
                if let Some(j) = issuer {
                    self.new_identity_by(self.issuers[j], address)?;
                }
                let amount = wei_f64(stake / parts as f64);
                self.fund(address, amount, staking)?;
                let op = self.ops[operator].owner;
                self.sim.transact(
                    address,
                    staking,
                    Staking::delegateCall {
                        operator: op,
                        assets: amount,
                    },
                )?;
                self.accounts.push(Account {
                    address,
                    entity: i,
                    yield_following,
                    operator: Some(operator),
                    issuer,
                });
            }
            bar.inc(1);
        }
        Ok(())
    }

    /// Registers `owner` as an operator with hot signer `key` and `self_stake` tokens, serving both
    /// models, with an identity of its own.
    pub(crate) fn register_operator(
        &mut self,
        owner: Address,
        key: &PrivateKeySigner,
        self_stake: f64,
    ) -> Result<(), SimError> {
        let (staking, registry) = (self.c.staking, self.c.registry);
        let amount = wei_f64(self_stake);
        self.fund(owner, amount, staking)?;
        self.sim.transact(
            owner,
            staking,
            Staking::registerOperatorCall {
                signer: key.address(),
                selfStake: amount,
            },
        )?;
        for model in [self.det_model, self.opt_model] {
            self.sim.transact(
                owner,
                registry,
                InferenceRegistry::serveModelCall { modelId: model },
            )?;
        }
        self.new_identity(owner)?;
        Ok(())
    }

    /// Stake and voice per person, read from `Staking` and `QuadraticVotes`.
    pub fn measure(&mut self) -> Result<Measure, SimError> {
        let mut who: Vec<(Address, usize)> = self
            .accounts
            .iter()
            .map(|a| (a.address, a.entity))
            .collect();
        who.extend(
            self.ops
                .iter()
                .filter(|o| o.behaviour != Behaviour::Whale)
                .map(|o| (o.owner, o.entity)),
        );
        let mut m = Measure {
            stake: vec![0.0; self.people],
            voice: vec![0.0; self.people],
            holders: Vec::new(),
        };
        let (staking, votes) = (self.c.staking, self.c.votes);
        for (a, e) in who {
            let s = self
                .sim
                .view(a, staking, Staking::stakeOfCall { account: a })?;
            let v = self
                .sim
                .view(a, votes, QuadraticVotes::getVotesCall { account: a })?;
            m.stake[e] += tokens_f64(s);
            m.voice[e] += voice_units(v);
            if !v.is_zero() {
                m.holders.push((a, e));
            }
        }
        Ok(m)
    }

    /// Active stake of each operator (0 when jailed or below the minimum).
    pub fn operator_stakes(&mut self) -> Result<Vec<f64>, SimError> {
        let staking = self.c.staking;
        let mut out = Vec::with_capacity(self.ops.len());
        for i in 0..self.ops.len() {
            let operator = self.ops[i].owner;
            let active = self.sim.view(
                operator,
                staking,
                Staking::isActiveOperatorCall { operator },
            )?;
            let stake =
                self.sim
                    .view(operator, staking, Staking::operatorStakeCall { operator })?;
            out.push(if active { tokens_f64(stake) } else { 0.0 });
        }
        Ok(out)
    }

    /// The attestation operator `op` signs for `request` with `output`, and its signature.
    pub fn attest(
        &self,
        op: usize,
        request: U256,
        model: B256,
        input: B256,
        output: B256,
    ) -> Result<(Attestation, Bytes), SimError> {
        let att = Attestation {
            operator: self.ops[op].owner,
            requestId: request,
            modelId: model,
            inputHash: input,
            outputHash: output,
        };
        let digest = att.eip712_signing_hash(&self.domain);
        let sig = self.ops[op]
            .key
            .sign_hash_sync(&digest)
            .map_err(|e| SimError::Evm {
                label: "sign attestation".into(),
                message: e.to_string(),
            })?;
        Ok((att, Bytes::from(sig.as_bytes().to_vec())))
    }

    /// Checks the simulator's EIP-712 digest against the registry's own `attestationDigest`.
    pub fn check_digest(&mut self) -> Result<(), SimError> {
        let (att, _) = self.attest(0, U256::from(1), self.det_model, B256::ZERO, B256::ZERO)?;
        let local = att.eip712_signing_hash(&self.domain);
        let onchain = self.sim.view(
            self.deployer,
            self.c.registry,
            InferenceRegistry::attestationDigestCall { att },
        )?;
        if local == onchain {
            Ok(())
        } else {
            Err(SimError::Evm {
                label: "attestationDigest".into(),
                message: format!("simulator digest {local} differs from the registry's {onchain}"),
            })
        }
    }
}
