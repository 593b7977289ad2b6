//! `verinfer gov`: VerinferGovernor proposals from the command line (propose, vote, queue,
//! execute, status), plus the action syntax shared with `verinfer sim fork`.
//!
//! An action is `<target>:<signature>[:<arg>]...` (e.g. `Staking:setMinOperatorStake(uint256):2000ether`)
//! or `<target>:0x<calldata>`; `<target>` is a contract name of the deployment manifest or an address.
//! Arguments are parsed by the signature's types (alloy `DynSolType::coerce_str`: decimal or hex
//! integers, `1.5ether`, addresses, `true`, `[1,2]`, `(a,b)`); when there are more `:`-separated
//! pieces than parameters, the surplus stays in the last argument (so a string may contain `:`).
//! Actions send no value.

use std::path::Path;

use alloy::dyn_abi::{DynSolType, JsonAbiExt};
use alloy::json_abi::Function;
use alloy::network::TransactionBuilder;
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::sol_types::{SolCall, SolEvent, SolInterface};
use anyhow::{anyhow, bail, Context, Result};
use verinfer_bindings::VerinferGovernor::{self, VerinferGovernorErrors};
use verinfer_deploy::manifest::Manifest;

use crate::chain::{self, Session};
use crate::ChainArgs;

/// One call of a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Target contract.
    pub target: Address,
    /// Calldata.
    pub data: Bytes,
}

/// The targets/values/calldatas/description of a proposal.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// Calls in order.
    pub actions: Vec<Action>,
    /// Description (its keccak256 is part of the proposal id).
    pub description: String,
}

impl Proposal {
    fn targets(&self) -> Vec<Address> {
        self.actions.iter().map(|a| a.target).collect()
    }
    fn values(&self) -> Vec<U256> {
        vec![U256::ZERO; self.actions.len()]
    }
    fn calldatas(&self) -> Vec<Bytes> {
        self.actions.iter().map(|a| a.data.clone()).collect()
    }
    /// The governor's proposal id (`hashProposal`).
    pub fn id(&self) -> U256 {
        use alloy::sol_types::SolValue;
        let hash = keccak256(
            (
                self.targets(),
                self.values(),
                self.calldatas(),
                keccak256(self.description.as_bytes()),
            )
                .abi_encode_params(),
        );
        U256::from_be_bytes(hash.0)
    }
}

/// Resolves a manifest contract name or an address.
pub fn resolve_target(name: &str, m: &Manifest, path: &Path) -> Result<Address> {
    if name.starts_with("0x") {
        return name
            .parse()
            .map_err(|_| anyhow!("`{name}` is not an address"));
    }
    m.contracts.get(name).copied().ok_or_else(|| {
        anyhow!(
            "unknown contract `{name}`: {} lists {}",
            path.display(),
            m.contracts.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })
}

/// Parses one `--action` (see the module docs).
pub fn parse_action(spec: &str, m: &Manifest, path: &Path) -> Result<Action> {
    let bad = |why: String| anyhow!("--action `{spec}`: {why}");
    let (target, rest) = spec
        .split_once(':')
        .ok_or_else(|| bad("expected <contract-or-address>:<signature>[:<arg>]...".into()))?;
    let to = resolve_target(target, m, path).map_err(|e| bad(e.to_string()))?;
    if rest.starts_with("0x") && !rest.contains('(') {
        let data: Bytes = rest
            .parse()
            .map_err(|_| bad(format!("`{rest}` is not hex calldata")))?;
        if data.len() < 4 {
            return Err(bad("calldata needs at least a 4-byte selector".into()));
        }
        return Ok(Action { target: to, data });
    }
    let close = rest
        .find(')')
        .ok_or_else(|| bad("the signature needs parentheses, e.g. `setX(uint256)`".into()))?;
    // Nested tuple types: take up to the matching top-level `)`.
    let mut depth = 0i32;
    let mut end = close;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let (sig, args) = rest.split_at(end + 1);
    let func = Function::parse(sig).map_err(|e| bad(format!("bad signature `{sig}`: {e}")))?;
    let n = func.inputs.len();
    let args: Vec<&str> = match args.strip_prefix(':') {
        None if args.is_empty() => Vec::new(),
        None => return Err(bad(format!("unexpected `{args}` after the signature"))),
        Some(a) => a.splitn(n.max(1), ':').collect(),
    };
    if args.len() != n {
        return Err(bad(format!(
            "{} takes {n} argument(s), got {}",
            func.signature(),
            args.len()
        )));
    }
    let mut values = Vec::with_capacity(n);
    for (i, (param, arg)) in func.inputs.iter().zip(&args).enumerate() {
        let ty = DynSolType::parse(&param.selector_type())
            .map_err(|e| bad(format!("argument {}: bad type: {e}", i + 1)))?;
        let v = ty.coerce_str(arg).map_err(|e| {
            bad(format!(
                "argument {} `{arg}` is not a valid {}: {e}",
                i + 1,
                param.selector_type()
            ))
        })?;
        values.push(v);
    }
    let data = func
        .abi_encode_input(&values)
        .map_err(|e| bad(format!("cannot encode arguments: {e}")))?;
    Ok(Action {
        target: to,
        data: data.into(),
    })
}

/// Parses every `--action`.
pub fn parse_actions(specs: &[String], m: &Manifest, path: &Path) -> Result<Vec<Action>> {
    specs.iter().map(|s| parse_action(s, m, path)).collect()
}

/// Parses a proposal id (decimal as printed by `gov propose`, or 0x hex).
pub fn parse_proposal_id(s: &str) -> Result<U256> {
    let r = if let Some(hex) = s.strip_prefix("0x") {
        U256::from_str_radix(hex, 16)
    } else {
        U256::from_str_radix(s, 10)
    };
    r.map_err(|_| anyhow!("--proposal: `{s}` is not a proposal id (decimal or 0x hex)"))
}

fn state_name(s: u8) -> &'static str {
    verinfer_bindings::types::ProposalState::of(s).map_or("Unknown", |p| p.name())
}

/// A readable explanation of revert data from the governor, the timelock or a suite contract.
pub fn explain_revert(data: &[u8]) -> String {
    use VerinferGovernorErrors as E;
    if let Ok(e) = VerinferGovernorErrors::abi_decode(data) {
        return match e {
            E::GovernorUnexpectedProposalState(e) => {
                let bits = U256::from_be_bytes(e.expectedStates.0);
                let wanted: Vec<&str> = (0u8..8)
                    .filter(|i| bits.bit(usize::from(*i)))
                    .map(state_name)
                    .collect();
                format!(
                    "proposal {} is {}, but this needs it to be {}",
                    e.proposalId,
                    state_name(e.current),
                    if wanted.is_empty() {
                        "in another state".to_owned()
                    } else {
                        wanted.join(" or ")
                    }
                )
            }
            E::GovernorNonexistentProposal(e) => {
                format!("proposal {} does not exist on this governor", e.proposalId)
            }
            E::GovernorAlreadyCastVote(e) => {
                format!("{} has already voted on this proposal", e.voter)
            }
            E::GovernorAlreadyQueuedProposal(e) => {
                format!("proposal {} is already queued", e.proposalId)
            }
            E::GovernorNotQueuedProposal(e) => format!(
                "proposal {} is not queued (run `verinfer gov queue` first)",
                e.proposalId
            ),
            E::GovernorInsufficientProposerVotes(e) => format!(
                "{} has {} voice, the proposal threshold is {}",
                e.proposer, e.votes, e.threshold
            ),
            E::GovernorRestrictedProposer(e) => format!(
                "the description restricts who may propose; {} may not",
                e.proposer
            ),
            E::GovernorInvalidProposalLength(e) => format!(
                "targets ({}), calldatas ({}) and values ({}) differ in length, or are empty",
                e.targets, e.calldatas, e.values
            ),
            E::GovernorInvalidVoteType(_) => "invalid vote type".to_owned(),
            E::TooManyActions(e) => {
                format!(
                    "the proposal has {} actions; at most {} are allowed",
                    e.count, e.max
                )
            }
            E::VotingClosed(e) => format!(
                "voting on proposal {} is not open: it is {}",
                e.proposalId,
                state_name(e.current)
            ),
            E::ProposalNotReady(e) => format!(
                "proposal {} is queued but its timelock ends at {} (unix time)",
                e.proposalId, e.eta
            ),
            other => format!("VerinferGovernor::{other:?}"),
        };
    }
    verinfer_bindings::decode_revert(data).unwrap_or_else(|| {
        if data.is_empty() {
            "reverted without data".to_owned()
        } else {
            format!("unknown error {}", Bytes::copy_from_slice(data))
        }
    })
}

/// `eth_call`s `data` from the sender first so a revert is reported decoded, then sends it.
pub async fn send_checked(
    s: &Session,
    what: &str,
    to: Address,
    data: Vec<u8>,
) -> Result<alloy::rpc::types::TransactionReceipt> {
    let req = TransactionRequest::default()
        .with_from(s.key.address())
        .with_to(to)
        .with_input(Bytes::from(data.clone()));
    if let Err(e) = s.provider.call(req).await {
        if let Some(revert) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
            bail!("{what} would revert: {}", explain_revert(&revert));
        }
        return Err(anyhow!(e).context(format!("{what}: eth_call failed")));
    }
    let done = s.call(what, to, data).await?;
    s.tx.receipt_of(done.tx_hash)
        .await?
        .ok_or_else(|| anyhow!("{what}: receipt of {} vanished", done.tx_hash))
}

fn events<E: SolEvent>(r: &alloy::rpc::types::TransactionReceipt) -> Vec<E> {
    r.inner
        .logs()
        .iter()
        .filter_map(|l| E::decode_log_data(l.data()).ok())
        .collect()
}

/// Describes a call for humans: `Staking: setMinOperatorStakeCall { value: .. }` when the target is
/// a manifest contract whose binding knows the selector, else `<target>: 0x<calldata>`.
pub fn describe_call(target: Address, data: &[u8], m: &Manifest) -> String {
    use verinfer_bindings::{
        DisputeGovernor, IdentityRegistry, InferenceRegistry, QuadraticVotes, Slasher, Staking,
        TimelockController, VerinferToken,
    };
    let name = m
        .contracts
        .iter()
        .find(|(_, a)| **a == target)
        .map(|(n, _)| n.as_str());
    macro_rules! try_decode {
        ($($c:ident :: $calls:ident),*) => {$(
            if name == Some(stringify!($c)) {
                if let Ok(call) = $c::$calls::abi_decode(data) {
                    return format!("{}: {call:?}", stringify!($c));
                }
            }
        )*};
    }
    try_decode!(
        Staking::StakingCalls,
        Slasher::SlasherCalls,
        InferenceRegistry::InferenceRegistryCalls,
        IdentityRegistry::IdentityRegistryCalls,
        QuadraticVotes::QuadraticVotesCalls,
        DisputeGovernor::DisputeGovernorCalls,
        VerinferGovernor::VerinferGovernorCalls,
        TimelockController::TimelockControllerCalls,
        VerinferToken::VerinferTokenCalls
    );
    format!(
        "{}: {}",
        name.map_or_else(|| target.to_string(), str::to_owned),
        Bytes::copy_from_slice(data)
    )
}

/// Finds the `ProposalCreated` event of `id` on the manifest's governor and rebuilds its actions
/// and description.
pub async fn recover<P: Provider>(
    provider: &P,
    m: &(Manifest, std::path::PathBuf),
    id: U256,
) -> Result<Proposal> {
    let governor = chain::addr(m, "VerinferGovernor")?;
    let deployed_at = m.0.block;
    let g = VerinferGovernor::new(governor, provider);
    let snapshot: u64 = g
        .proposalSnapshot(id)
        .call()
        .await
        .context("reading proposalSnapshot")?
        .try_into()
        .unwrap_or(u64::MAX);
    if snapshot == 0 {
        bail!("proposal {id} does not exist on the governor at {governor}");
    }
    // Created at `snapshot - votingDelay`, and the voting delay is at most MAX_VOTING_DELAY.
    let from = snapshot.saturating_sub(100_800).max(deployed_at);
    const CHUNK: u64 = 10_000;
    let mut lo = from;
    while lo <= snapshot {
        let hi = (lo + CHUNK - 1).min(snapshot);
        let filter = Filter::new()
            .address(governor)
            .event_signature(VerinferGovernor::ProposalCreated::SIGNATURE_HASH)
            .from_block(lo)
            .to_block(hi);
        let logs = provider
            .get_logs(&filter)
            .await
            .with_context(|| format!("reading ProposalCreated logs in blocks {lo}..={hi}"))?;
        for l in logs {
            let Ok(ev) = VerinferGovernor::ProposalCreated::decode_log_data(l.data()) else {
                continue;
            };
            if ev.proposalId != id {
                continue;
            }
            if ev.values.iter().any(|v| !v.is_zero()) {
                bail!("proposal {id} sends value; the CLI only handles value-free actions");
            }
            let actions = ev
                .targets
                .iter()
                .zip(ev.calldatas.iter())
                .map(|(t, d)| Action {
                    target: *t,
                    data: d.clone(),
                })
                .collect();
            return Ok(Proposal {
                actions,
                description: ev.description,
            });
        }
        lo = hi + 1;
    }
    bail!("no ProposalCreated event for proposal {id} in blocks {from}..={snapshot}")
}

/// How a command names its proposal.
pub struct ProposalRef<'a> {
    /// `--action`s.
    pub actions: &'a [String],
    /// `--description`.
    pub description: Option<&'a str>,
    /// `--proposal`.
    pub proposal: Option<&'a str>,
}

async fn resolve_proposal(
    s: &Session,
    m: &(Manifest, std::path::PathBuf),
    r: &ProposalRef<'_>,
) -> Result<Proposal> {
    if let Some(id) = r.proposal {
        let id = parse_proposal_id(id)?;
        return recover(&s.provider, m, id).await;
    }
    if r.actions.is_empty() {
        bail!("name the proposal with --proposal <id>, or with its --action(s) and --description");
    }
    let description = r
        .description
        .ok_or_else(|| anyhow!("--description is required with --action"))?;
    Ok(Proposal {
        actions: parse_actions(r.actions, &m.0, &m.1)?,
        description: description.to_owned(),
    })
}

/// `verinfer gov propose`.
pub async fn propose(c: &ChainArgs, actions: &[String], description: &str) -> Result<()> {
    let s = chain::session(c).await?;
    let m = chain::manifest(c, s.chain_id)?;
    let governor = chain::addr(&m, "VerinferGovernor")?;
    if actions.is_empty() {
        bail!("a proposal needs at least one --action");
    }
    let p = Proposal {
        actions: parse_actions(actions, &m.0, &m.1)?,
        description: description.to_owned(),
    };
    let call = VerinferGovernor::proposeCall {
        targets: p.targets(),
        values: p.values(),
        calldatas: p.calldatas(),
        description: p.description.clone(),
    };
    let r = send_checked(&s, "propose", governor, call.abi_encode()).await?;
    let ev = events::<VerinferGovernor::ProposalCreated>(&r)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no ProposalCreated event in {}", r.transaction_hash))?;
    println!("proposal {}", ev.proposalId);
    println!(
        "  proposer      {} (tx {})",
        ev.proposer, r.transaction_hash
    );
    for a in &p.actions {
        println!("  action        {}", describe_call(a.target, &a.data, &m.0));
    }
    println!(
        "  voting        blocks {} ..= {} (opens after block {})",
        ev.voteStart + U256::from(1),
        ev.voteEnd,
        ev.voteStart
    );
    if !events::<VerinferGovernor::GovernanceProposalFlagged>(&r).is_empty() {
        println!("  note          touches governance: 2x quorum and a 2/3 supermajority");
    }
    Ok(())
}

/// `verinfer gov vote`.
pub async fn vote(c: &ChainArgs, proposal: &str, support: u8, reason: Option<&str>) -> Result<()> {
    let s = chain::session(c).await?;
    let m = chain::manifest(c, s.chain_id)?;
    let governor = chain::addr(&m, "VerinferGovernor")?;
    let id = parse_proposal_id(proposal)?;
    let data = match reason {
        Some(reason) => VerinferGovernor::castVoteWithReasonCall {
            proposalId: id,
            support,
            reason: reason.to_owned(),
        }
        .abi_encode(),
        None => VerinferGovernor::castVoteCall {
            proposalId: id,
            support,
        }
        .abi_encode(),
    };
    let r = send_checked(&s, "castVote", governor, data).await?;
    let weight = events::<VerinferGovernor::VoteCast>(&r)
        .first()
        .map(|e| e.weight)
        .unwrap_or_default();
    println!(
        "{} voted {} on proposal {id} with weight {weight} (tx {})",
        s.key.address(),
        ["against", "for", "abstain"][usize::from(support.min(2))],
        r.transaction_hash
    );
    if weight.is_zero() {
        println!(
            "note: the sender had no voice at the proposal snapshot (voice = stake held before the proposal, delegated to the voter)"
        );
    }
    Ok(())
}

/// `verinfer gov queue`.
pub async fn queue(c: &ChainArgs, r: &ProposalRef<'_>) -> Result<()> {
    let s = chain::session(c).await?;
    let m = chain::manifest(c, s.chain_id)?;
    let governor = chain::addr(&m, "VerinferGovernor")?;
    let p = resolve_proposal(&s, &m, r).await?;
    let call = VerinferGovernor::queueCall {
        targets: p.targets(),
        values: p.values(),
        calldatas: p.calldatas(),
        descriptionHash: keccak256(p.description.as_bytes()),
    };
    let rc = send_checked(&s, "queue", governor, call.abi_encode()).await?;
    let eta = events::<VerinferGovernor::ProposalQueued>(&rc)
        .first()
        .map(|e| e.etaSeconds)
        .unwrap_or_default();
    let now = chain::chain_time(&s.provider).await?;
    println!(
        "proposal {} queued in the timelock (tx {}); executable from unix time {eta} ({})",
        p.id(),
        rc.transaction_hash,
        until(eta, now)
    );
    Ok(())
}

/// `verinfer gov execute`.
pub async fn execute(c: &ChainArgs, r: &ProposalRef<'_>) -> Result<()> {
    let s = chain::session(c).await?;
    let m = chain::manifest(c, s.chain_id)?;
    let governor = chain::addr(&m, "VerinferGovernor")?;
    let p = resolve_proposal(&s, &m, r).await?;
    let call = VerinferGovernor::executeCall {
        targets: p.targets(),
        values: p.values(),
        calldatas: p.calldatas(),
        descriptionHash: keccak256(p.description.as_bytes()),
    };
    let rc = send_checked(&s, "execute", governor, call.abi_encode()).await?;
    println!(
        "proposal {} executed (tx {}, {} action(s))",
        p.id(),
        rc.transaction_hash,
        p.actions.len()
    );
    Ok(())
}

/// `verinfer gov status` (read-only: needs no key).
pub async fn status(c: &ChainArgs, proposal: &str) -> Result<()> {
    let url = c
        .rpc
        .rpc_url
        .parse()
        .with_context(|| format!("invalid --rpc-url `{}`", c.rpc.rpc_url))?;
    let provider = alloy::providers::RootProvider::<alloy::network::Ethereum>::new_http(url);
    let chain_id = provider
        .get_chain_id()
        .await
        .with_context(|| format!("cannot reach {}", c.rpc.rpc_url))?;
    let m = chain::manifest(c, chain_id)?;
    let governor = chain::addr(&m, "VerinferGovernor")?;
    let id = parse_proposal_id(proposal)?;
    let g = VerinferGovernor::new(governor, &provider);
    let state = match g.state(id).call().await {
        Ok(s) => s,
        Err(e) => {
            if let Some(d) = e.as_revert_data() {
                bail!("{}", explain_revert(&d));
            }
            return Err(anyhow!(e).context("reading the proposal state"));
        }
    };
    let snapshot = g.proposalSnapshot(id).call().await?;
    let deadline = g.proposalDeadline(id).call().await?;
    let votes = g.proposalVotes(id).call().await?;
    let governance = g.isGovernanceProposal(id).call().await?;
    let quorum = match g.quorum(snapshot).call().await {
        Ok(q) if governance => format!("{} (2x for a governance proposal)", q * U256::from(2)),
        Ok(q) => q.to_string(),
        Err(_) => format!("not yet known (taken at block {snapshot})"),
    };
    let eta = g.proposalEta(id).call().await?;
    let head = provider.get_block_number().await?;
    println!("proposal {id}");
    println!("  state         {}", state_name(state));
    println!("  proposer      {}", g.proposalProposer(id).call().await?);
    println!(
        "  voting        blocks {} ..= {deadline} (now {head})",
        snapshot + U256::from(1)
    );
    println!("  for           {}", votes.forVotes);
    println!("  against       {}", votes.againstVotes);
    println!("  abstain       {}", votes.abstainVotes);
    println!("  quorum        {quorum}");
    if eta.is_zero() {
        println!("  eta           - (not queued)");
    } else {
        let now = chain::chain_time(&provider).await?;
        println!("  eta           {eta} (unix time; {})", until(eta, now));
    }
    Ok(())
}

/// `in N s` until `eta`, or `ready` once the chain time has reached it.
fn until(eta: U256, now: u64) -> String {
    let eta: u64 = eta.try_into().unwrap_or(u64::MAX);
    if eta <= now {
        "ready".to_owned()
    } else {
        format!("in {} s of chain time", eta - now)
    }
}

/// Parses `--support`.
pub fn parse_support(s: &str) -> Result<u8> {
    match s.to_ascii_lowercase().as_str() {
        "against" | "0" => Ok(0),
        "for" | "1" => Ok(1),
        "abstain" | "2" => Ok(2),
        _ => bail!("--support: `{s}` is not one of for, against, abstain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn manifest() -> Manifest {
        let mut contracts = BTreeMap::new();
        contracts.insert("Staking".to_owned(), Address::repeat_byte(0x51));
        Manifest {
            chain_id: 31337,
            block: 1,
            contracts,
        }
    }

    #[test]
    fn action_with_contract_name_encodes_the_call() {
        let a = parse_action(
            "Staking:setMinOperatorStake(uint256):2000ether",
            &manifest(),
            Path::new("m.json"),
        )
        .unwrap();
        assert_eq!(a.target, Address::repeat_byte(0x51));
        let want = verinfer_bindings::Staking::setMinOperatorStakeCall {
            value: U256::from(2_000u128 * verinfer_bindings::units::TOKEN),
        }
        .abi_encode();
        assert_eq!(a.data.to_vec(), want);
    }

    #[test]
    fn raw_calldata_and_address_targets() {
        let a = parse_action(
            "0x0000000000000000000000000000000000000042:0x12345678aa",
            &manifest(),
            Path::new("m.json"),
        )
        .unwrap();
        assert_eq!(a.target, Address::with_last_byte(0x42));
        assert_eq!(a.data.to_vec(), vec![0x12, 0x34, 0x56, 0x78, 0xaa]);
    }

    #[test]
    fn bad_actions_name_what_is_wrong() {
        let m = manifest();
        let p = Path::new("deployments/31337.json");
        let e = parse_action("Stakin:setX(uint256):1", &m, p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown contract `Stakin`") && e.contains("Staking"),
            "{e}"
        );
        let e = parse_action("Staking:setX(uint256)", &m, p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("takes 1 argument(s), got 0"), "{e}");
        let e = parse_action("Staking:setX(uint256):abc", &m, p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("argument 1 `abc` is not a valid uint256"), "{e}");
        let e = parse_action("Staking:setX(uint257):1", &m, p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad"), "{e}");
        let e = parse_action("Staking", &m, p).unwrap_err().to_string();
        assert!(e.contains("expected <contract-or-address>"), "{e}");
    }

    #[test]
    fn string_argument_keeps_its_colons() {
        let a = parse_action(
            "Staking:note(uint256,string):7:a:b",
            &manifest(),
            Path::new("m.json"),
        )
        .unwrap();
        let f = Function::parse("note(uint256,string)").unwrap();
        let v = f.abi_decode_input(&a.data[4..]).unwrap();
        assert_eq!(v[1].as_str(), Some("a:b"));
    }

    #[test]
    fn unexpected_state_error_is_explained() {
        let data = VerinferGovernorErrors::GovernorUnexpectedProposalState(
            VerinferGovernor::GovernorUnexpectedProposalState {
                proposalId: U256::from(7),
                current: 0,
                expectedStates: alloy::primitives::B256::from(U256::from(1u8 << 4)),
            },
        )
        .abi_encode();
        assert_eq!(
            explain_revert(&data),
            "proposal 7 is Pending, but this needs it to be Succeeded"
        );
    }

    #[test]
    fn proposal_id_matches_hash_proposal_encoding() {
        // OZ: uint256(keccak256(abi.encode(targets, values, calldatas, descriptionHash))).
        let p = Proposal {
            actions: vec![Action {
                target: Address::repeat_byte(1),
                data: Bytes::from(vec![1, 2, 3, 4]),
            }],
            description: "d".into(),
        };
        let enc = VerinferGovernor::hashProposalCall {
            targets: vec![Address::repeat_byte(1)],
            values: vec![U256::ZERO],
            calldatas: vec![Bytes::from(vec![1, 2, 3, 4])],
            descriptionHash: keccak256("d"),
        }
        .abi_encode();
        assert_eq!(
            p.id(),
            U256::from_be_bytes(keccak256(&enc[4..]).0),
            "hashProposal hashes its ABI-encoded arguments"
        );
        assert_eq!(parse_proposal_id("0x10").unwrap(), U256::from(16));
        assert!(parse_proposal_id("x").is_err());
        assert_eq!(parse_support("Abstain").unwrap(), 2);
        assert!(parse_support("maybe").is_err());
    }
}
