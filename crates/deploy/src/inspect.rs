//! Reads a deployed suite back from the chain and checks it.
//!
//! [`read_state`] renders everything a deployment decides as a flat, ordered map: every AccessControl
//! role's holders and admin role, the token's owner, the timelock's proposer/canceller/executor roles,
//! the sinks (Slasher treasury, registry treasury), every wiring getter and every parameter, with
//! addresses named (`TimelockController`, `deployer`, `zero`). Two deployments are equivalent exactly
//! when their maps are equal, whatever their addresses: the equivalence test against `DeploySuite`
//! compares them key by key. Keys under `state.` are live state (balances, issuers, the fault window of
//! registered models) that use changes after deployment; [`check`] leaves them out.
//!
//! [`expected_state`] is the same map as the plan's parameters say it must be, and [`check`]
//! (`verinfer deploy verify`) compares the chain with the manifest: chain id, code at every address,
//! each runtime code against the one its recorded init code produces (immutables included: the
//! creation is replayed with `eth_call`), and every key of the expected map.

use std::collections::BTreeMap;

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::{keccak256, Address, Bytes, B256},
    providers::Provider,
    rpc::types::{state::AccountOverride, state::StateOverride, TransactionRequest},
    sol_types::SolCall,
    transports::TransportError,
};
use verinfer_bindings::{
    DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Referee, Slasher,
    Staking, TimelockController, VerinferGovernor, VerinferToken,
};

use crate::{
    manifest::Manifest,
    plan::{
        canceller_role, executor_role, proposer_role, DeployParams, DeployPlan, StepKind,
        CONTRACTS, CREATE2_FACTORY, DEFAULT_ADMIN_ROLE,
    },
};

/// The rendered state of a suite: key (e.g. `Slasher.treasury`) to value (e.g. `TimelockController`).
pub type State = BTreeMap<String, String>;

/// Reading the chain failed.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// A request failed (not a revert of a getter the suite must answer: that is a failed check).
    #[error("{what}: {source}")]
    Rpc {
        /// The request.
        what: String,
        /// The transport or node error.
        #[source]
        source: TransportError,
    },
    /// A getter answered something that does not decode.
    #[error("{what}: {source}")]
    Decode {
        /// The getter.
        what: String,
        /// The decoding error.
        #[source]
        source: alloy::sol_types::Error,
    },
    /// A contract the suite needs is missing from the address book.
    #[error("no address for {0}")]
    Missing(String),
}

/// Names addresses for rendering: the suite's contracts, `deployer`, `zero`; others as hex.
#[derive(Debug, Clone)]
struct Names(BTreeMap<Address, String>);

impl Names {
    fn new(contracts: &BTreeMap<String, Address>, deployer: Option<Address>) -> Self {
        let mut m: BTreeMap<Address, String> =
            contracts.iter().map(|(n, a)| (*a, n.clone())).collect();
        if let Some(d) = deployer {
            m.insert(d, "deployer".into());
        }
        m.insert(Address::ZERO, "zero".into());
        Self(m)
    }

    fn of(&self, a: Address) -> String {
        self.0.get(&a).cloned().unwrap_or_else(|| a.to_string())
    }
}

/// A role: its name, id, and whether its holders are live state (changed by use, not deployment).
type Role = (&'static str, B256, bool);

/// The AccessControl contracts of the suite and their roles; live roles are `state.`.
fn roles() -> Vec<(&'static str, Vec<Role>)> {
    let admin = ("DEFAULT_ADMIN_ROLE", DEFAULT_ADMIN_ROLE, false);
    vec![
        ("Staking", vec![admin]),
        ("Slasher", vec![admin]),
        ("InferenceRegistry", vec![admin]),
        (
            "IdentityRegistry",
            vec![admin, ("ISSUER_ROLE", keccak256("ISSUER_ROLE"), true)],
        ),
        ("DisputeGovernor", vec![admin]),
        (
            "TimelockController",
            vec![
                admin,
                ("PROPOSER_ROLE", proposer_role(), false),
                ("CANCELLER_ROLE", canceller_role(), false),
                ("EXECUTOR_ROLE", executor_role(), false),
            ],
        ),
    ]
}

struct Reader<'a, P> {
    p: &'a P,
    at: &'a BTreeMap<String, Address>,
    names: Names,
    out: State,
}

impl<P: Provider<Ethereum>> Reader<'_, P> {
    fn addr(&self, name: &str) -> Result<Address, InspectError> {
        self.at
            .get(name)
            .copied()
            .ok_or_else(|| InspectError::Missing(name.into()))
    }

    /// `eth_call` of a getter; a revert is rendered as the value `reverts`.
    async fn get<C: SolCall>(
        &mut self,
        contract: &str,
        key: &str,
        call: C,
        render: impl FnOnce(&Names, C::Return) -> String,
    ) -> Result<(), InspectError> {
        let to = self.addr(contract)?;
        let what = format!("{contract}.{key}");
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(call.abi_encode());
        let value = match self.p.call(tx).await {
            Ok(ret) => {
                let v = C::abi_decode_returns(&ret).map_err(|source| InspectError::Decode {
                    what: what.clone(),
                    source,
                })?;
                render(&self.names, v)
            }
            Err(e) if e.as_error_resp().is_some() => "reverts".into(),
            Err(source) => return Err(InspectError::Rpc { what, source }),
        };
        self.out.insert(what, value);
        Ok(())
    }
}

fn a(n: &Names, x: Address) -> String {
    n.of(x)
}
fn s<T: ToString>(_: &Names, x: T) -> String {
    x.to_string()
}

/// Reads the suite at `contracts` (names as in the manifest) from the chain; `deployer` is named
/// `deployer` in the output.
pub async fn read_state<P: Provider<Ethereum>>(
    provider: &P,
    contracts: &BTreeMap<String, Address>,
    deployer: Option<Address>,
) -> Result<State, InspectError> {
    let mut r = Reader {
        p: provider,
        at: contracts,
        names: Names::new(contracts, deployer),
        out: State::new(),
    };
    for name in CONTRACTS {
        let at = r.addr(name)?;
        let code = provider
            .get_code_at(at)
            .await
            .map_err(|source| InspectError::Rpc {
                what: format!("code of {name}"),
                source,
            })?;
        r.out.insert(
            format!("{name}.code"),
            if code.is_empty() { "none" } else { "present" }.into(),
        );
    }

    // Token
    let t = "VerinferToken";
    r.get(t, "name", VerinferToken::nameCall {}, s).await?;
    r.get(t, "symbol", VerinferToken::symbolCall {}, s).await?;
    r.get(t, "decimals", VerinferToken::decimalsCall {}, s)
        .await?;
    r.get(t, "owner", VerinferToken::ownerCall {}, a).await?;
    r.get(t, "totalSupply", VerinferToken::totalSupplyCall {}, s)
        .await?;
    if let Some(d) = deployer {
        let to = r.addr(t)?;
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(VerinferToken::balanceOfCall { account: d }.abi_encode());
        let ret = provider
            .call(tx)
            .await
            .map_err(|source| InspectError::Rpc {
                what: "VerinferToken.balanceOf(deployer)".into(),
                source,
            })?;
        let v = VerinferToken::balanceOfCall::abi_decode_returns(&ret).map_err(|source| {
            InspectError::Decode {
                what: "VerinferToken.balanceOf(deployer)".into(),
                source,
            }
        })?;
        r.out.insert(
            "state.VerinferToken.balanceOf(deployer)".into(),
            v.to_string(),
        );
    }

    // Staking
    let k = "Staking";
    r.get(k, "token", Staking::tokenCall {}, a).await?;
    r.get(k, "slasher", Staking::slasherCall {}, a).await?;
    r.get(k, "accountObserver", Staking::accountObserverCall {}, a)
        .await?;
    r.get(k, "operatorObserver", Staking::operatorObserverCall {}, a)
        .await?;
    r.get(k, "wired", Staking::wiredCall {}, s).await?;
    r.get(k, "paused", Staking::pausedCall {}, s).await?;
    r.get(k, "minOperatorStake", Staking::minOperatorStakeCall {}, s)
        .await?;
    r.get(k, "unbondingDelay", Staking::unbondingDelayCall {}, s)
        .await?;
    r.get(
        k,
        "signerRotationDelay",
        Staking::signerRotationDelayCall {},
        s,
    )
    .await?;

    // Slasher
    let l = "Slasher";
    r.get(l, "staking", Slasher::stakingCall {}, a).await?;
    r.get(l, "token", Slasher::tokenCall {}, a).await?;
    r.get(l, "registry", Slasher::registryCall {}, a).await?;
    r.get(l, "governance", Slasher::governanceCall {}, a)
        .await?;
    r.get(l, "treasury", Slasher::treasuryCall {}, a).await?;
    r.get(l, "capBps", Slasher::capBpsCall {}, s).await?;
    r.get(l, "capWindow", Slasher::capWindowCall {}, s).await?;
    for kind in 0u8..3 {
        r.get(
            l,
            &format!("faultParams({kind})"),
            Slasher::faultParamsCall { kind },
            |_, f| {
                format!(
                    "slashBps {} reporterBps {} vetoWindow {} jailDuration {}",
                    f.slashBps, f.reporterBps, f.vetoWindow, f.jailDuration
                )
            },
        )
        .await?;
    }
    r.get(l, "checkTiming()", Slasher::checkTimingCall {}, |_, _| {
        "ok".into()
    })
    .await?;

    // Registry
    let g = "InferenceRegistry";
    r.get(g, "staking", InferenceRegistry::stakingCall {}, a)
        .await?;
    r.get(g, "slasher", InferenceRegistry::slasherCall {}, a)
        .await?;
    r.get(g, "token", InferenceRegistry::tokenCall {}, a)
        .await?;
    r.get(g, "treasury", InferenceRegistry::treasuryCall {}, a)
        .await?;
    r.get(g, "resolver", InferenceRegistry::resolverCall {}, a)
        .await?;
    r.get(g, "referee", InferenceRegistry::refereeCall {}, a)
        .await?;
    r.get(g, "batchWindow", InferenceRegistry::batchWindowCall {}, s)
        .await?;
    let fault = InferenceRegistry::faultWindowCall {};
    r.get(g, "faultWindow", fault, s).await?;
    if let Some(v) = r.out.remove("InferenceRegistry.faultWindow") {
        r.out
            .insert("state.InferenceRegistry.faultWindow".into(), v);
    }

    r.get(
        "IdentityRegistry",
        "observer",
        IdentityRegistry::observerCall {},
        a,
    )
    .await?;
    r.get(
        "QuadraticVotes",
        "staking",
        QuadraticVotes::stakingCall {},
        a,
    )
    .await?;
    r.get(
        "QuadraticVotes",
        "identityRegistry",
        QuadraticVotes::identityRegistryCall {},
        a,
    )
    .await?;
    r.get(
        "TimelockController",
        "minDelay",
        TimelockController::getMinDelayCall {},
        s,
    )
    .await?;

    // Governor
    let v = "VerinferGovernor";
    r.get(v, "name", VerinferGovernor::nameCall {}, s).await?;
    r.get(v, "votes", VerinferGovernor::votesCall {}, a).await?;
    r.get(v, "timelock", VerinferGovernor::timelockCall {}, a)
        .await?;
    r.get(
        v,
        "identityRegistry",
        VerinferGovernor::identityRegistryCall {},
        a,
    )
    .await?;
    r.get(v, "votingDelay", VerinferGovernor::votingDelayCall {}, s)
        .await?;
    r.get(v, "votingPeriod", VerinferGovernor::votingPeriodCall {}, s)
        .await?;
    r.get(
        v,
        "proposalThreshold",
        VerinferGovernor::proposalThresholdCall {},
        s,
    )
    .await?;
    r.get(v, "quorumBps", VerinferGovernor::quorumBpsCall {}, s)
        .await?;
    r.get(
        v,
        "delegateCapBps",
        VerinferGovernor::delegateCapBpsCall {},
        s,
    )
    .await?;
    r.get(v, "residualK", VerinferGovernor::residualKCall {}, s)
        .await?;
    r.get(
        v,
        "lateQuorumVoteExtension",
        VerinferGovernor::lateQuorumVoteExtensionCall {},
        s,
    )
    .await?;
    r.get(
        v,
        "governanceTargets",
        VerinferGovernor::governanceTargetsCall {},
        |n, list| {
            let mut names: Vec<String> = list.into_iter().map(|x| n.of(x)).collect();
            names.sort();
            names.join(",")
        },
    )
    .await?;

    // Disputes
    let d = "DisputeGovernor";
    r.get(d, "votes", DisputeGovernor::votesCall {}, a).await?;
    r.get(d, "staking", DisputeGovernor::stakingCall {}, a)
        .await?;
    r.get(d, "timelock", DisputeGovernor::timelockCall {}, a)
        .await?;
    r.get(d, "registry", DisputeGovernor::registryCall {}, a)
        .await?;
    r.get(d, "votingPeriod", DisputeGovernor::votingPeriodCall {}, s)
        .await?;
    r.get(d, "quorumBps", DisputeGovernor::quorumBpsCall {}, s)
        .await?;
    r.get(
        d,
        "delegateCapBps",
        DisputeGovernor::delegateCapBpsCall {},
        s,
    )
    .await?;
    r.get(
        d,
        "maxRulingDelay",
        DisputeGovernor::maxRulingDelayCall {},
        s,
    )
    .await?;

    // Referee (no admin: its parameters are fixed at construction)
    let f = "Referee";
    r.get(f, "registry", Referee::registryCall {}, a).await?;
    r.get(f, "staking", Referee::stakingCall {}, a).await?;
    r.get(f, "identities", Referee::identitiesCall {}, a)
        .await?;
    r.get(f, "moveWindow", Referee::moveWindowCall {}, s)
        .await?;
    r.get(f, "maxRulingDelay", Referee::maxRulingDelayCall {}, s)
        .await?;

    // Roles: every holder among the suite, the deployer and zero, and each role's admin role.
    let mut holders: Vec<Address> = contracts.values().copied().collect();
    holders.extend(deployer);
    holders.push(Address::ZERO);
    for (contract, list) in roles() {
        let at = r.addr(contract)?;
        for (role_name, role, live) in list {
            let mut held = Vec::new();
            for h in &holders {
                let tx = TransactionRequest::default()
                    .with_to(at)
                    .with_input(Staking::hasRoleCall { role, account: *h }.abi_encode());
                let what = format!("{contract}.hasRole({role_name})");
                let ret = provider
                    .call(tx)
                    .await
                    .map_err(|source| InspectError::Rpc {
                        what: what.clone(),
                        source,
                    })?;
                if Staking::hasRoleCall::abi_decode_returns(&ret)
                    .map_err(|source| InspectError::Decode { what, source })?
                {
                    held.push(r.names.of(*h));
                }
            }
            held.sort();
            let prefix = if live { "state." } else { "" };
            r.out.insert(
                format!("{prefix}{contract}.roles.{role_name}"),
                held.join(","),
            );
            // The registry implements hasRole only (its admin role is fixed).
            if contract != "InferenceRegistry" {
                let admin_names: BTreeMap<B256, &str> = [
                    (DEFAULT_ADMIN_ROLE, "DEFAULT_ADMIN_ROLE"),
                    (proposer_role(), "PROPOSER_ROLE"),
                ]
                .into_iter()
                .collect();
                r.get(
                    contract,
                    &format!("roleAdmin.{role_name}"),
                    Staking::getRoleAdminCall { role },
                    |_, x| {
                        admin_names
                            .get(&x)
                            .map_or_else(|| x.to_string(), |n| (*n).to_owned())
                    },
                )
                .await?;
            }
        }
    }
    Ok(r.out)
}

/// The state [`read_state`] must find for a suite deployed by `plan` at its addresses (without the
/// live `state.` keys).
pub fn expected_state(plan: &DeployPlan) -> State {
    let p: &DeployParams = &plan.params;
    let names = Names::new(&plan.addresses, Some(plan.deployer));
    let n = |c: &str| {
        plan.address(c)
            .map_or_else(|| format!("<no {c}>"), |x| names.of(x))
    };
    let admin = if p.handover {
        n("TimelockController")
    } else {
        "deployer".to_owned()
    };
    let treasury = if p.treasury.is_zero() {
        n("TimelockController")
    } else {
        names.of(p.treasury)
    };
    let mut e = State::new();
    let mut put = |k: &str, v: String| {
        e.insert(k.to_owned(), v);
    };
    for c in CONTRACTS {
        put(&format!("{c}.code"), "present".into());
    }
    put("VerinferToken.name", "Verinfer".into());
    put("VerinferToken.symbol", "VINF".into());
    put("VerinferToken.decimals", "18".into());
    put("VerinferToken.owner", admin.clone());
    put("VerinferToken.totalSupply", p.initial_supply.to_string());
    put("Staking.token", n("VerinferToken"));
    put("Staking.slasher", n("Slasher"));
    put("Staking.accountObserver", n("QuadraticVotes"));
    put("Staking.operatorObserver", n("InferenceRegistry"));
    put("Staking.wired", "true".into());
    put("Staking.paused", "false".into());
    put("Staking.minOperatorStake", p.min_operator_stake.to_string());
    put("Staking.unbondingDelay", p.unbonding_delay.to_string());
    put(
        "Staking.signerRotationDelay",
        p.signer_rotation_delay.to_string(),
    );
    put("Slasher.staking", n("Staking"));
    put("Slasher.token", n("VerinferToken"));
    put("Slasher.registry", n("InferenceRegistry"));
    put("Slasher.governance", n("TimelockController"));
    put("Slasher.treasury", treasury.clone());
    put("Slasher.capBps", "3000".into());
    put("Slasher.capWindow", (7 * 86_400).to_string());
    put(
        "Slasher.faultParams(0)",
        "slashBps 1000 reporterBps 1000 vetoWindow 0 jailDuration 604800".into(),
    );
    put(
        "Slasher.faultParams(1)",
        "slashBps 500 reporterBps 2000 vetoWindow 172800 jailDuration 259200".into(),
    );
    put(
        "Slasher.faultParams(2)",
        "slashBps 10 reporterBps 500 vetoWindow 0 jailDuration 0".into(),
    );
    put("Slasher.checkTiming()", "ok".into());
    put("InferenceRegistry.staking", n("Staking"));
    put("InferenceRegistry.slasher", n("Slasher"));
    put("InferenceRegistry.token", n("VerinferToken"));
    put("InferenceRegistry.treasury", treasury);
    put("InferenceRegistry.resolver", n("DisputeGovernor"));
    put("InferenceRegistry.referee", n("Referee"));
    put("InferenceRegistry.batchWindow", "3600".into());
    put("IdentityRegistry.observer", n("QuadraticVotes"));
    put("QuadraticVotes.staking", n("Staking"));
    put("QuadraticVotes.identityRegistry", n("IdentityRegistry"));
    put("TimelockController.minDelay", p.timelock_delay.to_string());
    put("VerinferGovernor.name", "VerinferGovernor".into());
    put("VerinferGovernor.votes", n("QuadraticVotes"));
    put("VerinferGovernor.timelock", n("TimelockController"));
    put("VerinferGovernor.identityRegistry", n("IdentityRegistry"));
    put("VerinferGovernor.votingDelay", p.voting_delay.to_string());
    put("VerinferGovernor.votingPeriod", p.voting_period.to_string());
    put(
        "VerinferGovernor.proposalThreshold",
        p.proposal_threshold.to_string(),
    );
    put("VerinferGovernor.quorumBps", p.quorum_bps.to_string());
    put(
        "VerinferGovernor.delegateCapBps",
        p.delegate_cap_bps.to_string(),
    );
    put("VerinferGovernor.residualK", p.residual_k.to_string());
    put("VerinferGovernor.lateQuorumVoteExtension", "0".into());
    // The referee has no admin role: it is no governance target.
    let mut all: Vec<String> = CONTRACTS
        .iter()
        .filter(|c| **c != "Referee")
        .map(|c| n(c))
        .collect();
    all.sort();
    put("VerinferGovernor.governanceTargets", all.join(","));
    put("DisputeGovernor.votes", n("QuadraticVotes"));
    put("DisputeGovernor.staking", n("Staking"));
    put("DisputeGovernor.timelock", n("TimelockController"));
    put("DisputeGovernor.registry", n("InferenceRegistry"));
    put(
        "DisputeGovernor.votingPeriod",
        p.dispute_voting_period.to_string(),
    );
    put("DisputeGovernor.quorumBps", p.quorum_bps.to_string());
    put(
        "DisputeGovernor.delegateCapBps",
        p.delegate_cap_bps.to_string(),
    );
    put(
        "DisputeGovernor.maxRulingDelay",
        p.vote_ruling_delay().to_string(),
    );
    put("Referee.registry", n("InferenceRegistry"));
    put("Referee.staking", n("Staking"));
    put("Referee.identities", n("IdentityRegistry"));
    put("Referee.moveWindow", p.referee_move_window.to_string());
    put(
        "Referee.maxRulingDelay",
        p.referee_ruling_delay().to_string(),
    );
    for (contract, list) in roles() {
        for (role_name, _, live) in list {
            if live {
                continue;
            }
            let held = match (contract, role_name) {
                ("TimelockController", "DEFAULT_ADMIN_ROLE") if !p.handover => {
                    let mut v = [n("TimelockController"), "deployer".to_owned()];
                    v.sort();
                    v.join(",")
                }
                ("TimelockController", "DEFAULT_ADMIN_ROLE") => n("TimelockController"),
                ("TimelockController", "EXECUTOR_ROLE") => "zero".into(),
                ("TimelockController", _) => n("VerinferGovernor"),
                _ => admin.clone(),
            };
            put(&format!("{contract}.roles.{role_name}"), held);
            if contract != "InferenceRegistry" {
                put(
                    &format!("{contract}.roleAdmin.{role_name}"),
                    "DEFAULT_ADMIN_ROLE".into(),
                );
            }
        }
    }
    // Issuers come and go (live state), but who appoints them is fixed at deployment.
    put(
        "IdentityRegistry.roleAdmin.ISSUER_ROLE",
        "DEFAULT_ADMIN_ROLE".into(),
    );
    e
}

/// One check of `verinfer deploy verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// What the manifest says.
    pub expected: String,
    /// What the chain says.
    pub actual: String,
}

impl Check {
    /// Whether the chain matches the manifest here.
    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

/// How many contracts a constructor of the suite may create (and the replay empties).
const CHILD_CREATES: u64 = 8;

/// The runtime code `init_code` produces at `address`, replayed with `eth_call` on the current
/// state: the creation runs as the deployer at the planned nonce (`CREATE`), or through the
/// factory (`CREATE2`, the factory's code overridden by a helper that returns the created code),
/// with the target account emptied, so immutables (including `address(this)`) come out as deployed.
async fn replay_creation<P: Provider<Ethereum>>(
    p: &P,
    plan: &DeployPlan,
    index: usize,
) -> Result<Option<Bytes>, TransportError> {
    let step = &plan.steps[index];
    let StepKind::Create {
        init_code,
        address,
        salt,
        ..
    } = &step.kind
    else {
        return Ok(None);
    };
    let empty = AccountOverride {
        code: Some(Bytes::new()),
        nonce: Some(0),
        state: Some(Default::default()),
        ..Default::default()
    };
    let mut overrides = StateOverride::default();
    // A constructor may itself create contracts (the registry deploys its view, admin and delivery
    // modules): their addresses (the target's CREATE nonces 1..) are emptied too, or the replayed
    // creates would collide with the deployed ones.
    for nonce in 1..=CHILD_CREATES {
        overrides.insert(address.create(nonce), empty.clone());
    }
    overrides.insert(*address, empty);
    let tx = match salt {
        None => {
            overrides.insert(
                plan.deployer,
                AccountOverride {
                    nonce: Some(plan.start_nonce + index as u64),
                    ..Default::default()
                },
            );
            TransactionRequest::default()
                .with_from(plan.deployer)
                .with_input(init_code.clone())
                .into_create()
        }
        Some(salt) => {
            // calldata = salt ++ init code; CREATE2 it, then return the created account's code.
            const CREATE2_AND_RETURN_CODE: [u8; 32] = [
                0x60, 0x20, 0x36, 0x03, 0x80, 0x60, 0x20, 0x60, 0x00, 0x37, 0x60, 0x00, 0x35, 0x90,
                0x60, 0x00, 0x60, 0x00, 0xf5, 0x80, 0x3b, 0x80, 0x60, 0x00, 0x60, 0x00, 0x84, 0x3c,
                0x60, 0x00, 0xf3, 0x00,
            ];
            overrides.insert(
                CREATE2_FACTORY,
                AccountOverride {
                    code: Some(Bytes::from_static(&CREATE2_AND_RETURN_CODE)),
                    ..Default::default()
                },
            );
            let mut data = salt.to_vec();
            data.extend_from_slice(init_code);
            TransactionRequest::default()
                .with_from(plan.deployer)
                .with_to(CREATE2_FACTORY)
                .with_input(data)
        }
    };
    p.call(tx).overrides(overrides).await.map(Some)
}

/// `verinfer deploy verify`: compares the chain with `manifest` and returns every check (passed or
/// not). Errors only when the chain cannot be read.
pub async fn check<P: Provider<Ethereum>>(
    provider: &P,
    manifest: &Manifest,
) -> Result<Vec<Check>, InspectError> {
    let mut checks = Vec::new();
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|source| InspectError::Rpc {
            what: "chainId".into(),
            source,
        })?;
    checks.push(Check {
        name: "chain id".into(),
        expected: manifest.chain_id.to_string(),
        actual: chain_id.to_string(),
    });
    let deployer = manifest.deployment.as_ref().map(|d| d.deployer);
    let actual = read_state(provider, &manifest.contracts, deployer).await?;
    let Some(dep) = &manifest.deployment else {
        // An older manifest: code and wiring only (no parameters or deployer recorded).
        for (k, v) in &actual {
            if k.ends_with(".code") {
                checks.push(Check {
                    name: k.clone(),
                    expected: "present".into(),
                    actual: v.clone(),
                });
            }
        }
        let names = Names::new(&manifest.contracts, None);
        for (k, want) in [
            ("Staking.slasher", "Slasher"),
            ("Staking.accountObserver", "QuadraticVotes"),
            ("Staking.operatorObserver", "InferenceRegistry"),
            ("Slasher.registry", "InferenceRegistry"),
            ("Slasher.governance", "TimelockController"),
            ("InferenceRegistry.resolver", "DisputeGovernor"),
            ("InferenceRegistry.referee", "Referee"),
            ("DisputeGovernor.registry", "InferenceRegistry"),
            ("Referee.registry", "InferenceRegistry"),
            ("IdentityRegistry.observer", "QuadraticVotes"),
            ("VerinferGovernor.timelock", "TimelockController"),
        ] {
            let expected = manifest
                .contracts
                .get(want)
                .map_or_else(|| format!("<no {want}>"), |x| names.of(*x));
            checks.push(Check {
                name: k.into(),
                expected,
                actual: actual.get(k).cloned().unwrap_or_default(),
            });
        }
        return Ok(checks);
    };
    let plan = DeployPlan::new(&dep.params, dep.start_nonce);
    checks.push(Check {
        name: "plan hash (this build's bytecode and the recorded parameters)".into(),
        expected: dep.plan_hash.to_string(),
        actual: plan.hash().to_string(),
    });
    checks.push(Check {
        name: "addresses (the plan's, from the recorded parameters)".into(),
        expected: format!("{:?}", manifest.contracts),
        actual: format!("{:?}", plan.addresses),
    });
    for (i, step) in plan.steps.iter().enumerate() {
        let Some((name, at)) = step.created() else {
            continue;
        };
        let code = provider
            .get_code_at(at)
            .await
            .map_err(|source| InspectError::Rpc {
                what: format!("code of {name}"),
                source,
            })?;
        let expected = match replay_creation(provider, &plan, i).await {
            Ok(Some(c)) => keccak256(&c).to_string(),
            Ok(None) => continue,
            Err(e) => format!("creation replay failed: {e}"),
        };
        checks.push(Check {
            name: format!("{name} runtime code (replayed creation, immutables included)"),
            expected,
            actual: keccak256(&code).to_string(),
        });
    }
    for (k, want) in expected_state(&plan) {
        checks.push(Check {
            actual: actual
                .get(&k)
                .cloned()
                .unwrap_or_else(|| "<not read>".into()),
            name: k,
            expected: want,
        });
    }
    Ok(checks)
}

/// Keys whose values differ between `a` and `b` (ignoring `state.` keys when `ignore_live`), as
/// `(key, a's value, b's value)`.
pub fn diff(a: &State, b: &State, ignore_live: bool) -> Vec<(String, String, String)> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| !(ignore_live && k.starts_with("state.")))
        .filter_map(|k| {
            let (x, y) = (a.get(k), b.get(k));
            (x != y).then(|| {
                (
                    k.clone(),
                    x.cloned().unwrap_or_else(|| "<absent>".into()),
                    y.cloned().unwrap_or_else(|| "<absent>".into()),
                )
            })
        })
        .collect()
}
