//! `verinfer gov`: VerinferGovernor proposals (propose, vote, queue, execute, status) over
//! [`verinfer_client::governance`].

use alloy::primitives::U256;
use alloy::providers::Provider;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use verinfer_bindings::types::VoteType;
use verinfer_client::governance::{
    describe_call, parse_actions, parse_proposal_id, parse_support, Action, Proposal,
};
use verinfer_client::Client;
use verinfer_sim::fork::{ForkError, ForkSim};
use verinfer_sim::SimError;

use crate::args::{ChainArgs, RpcArgs};
use crate::output::{addr, receipt, OutputArgs};

/// Governance through VerinferGovernor: propose, vote, queue, execute, status.
///
/// Example: verinfer gov propose --action Staking:setMinOperatorStake(uint256):2000ether --description "raise the minimum stake"
#[derive(Subcommand, Debug)]
pub enum GovCommand {
    /// Propose actions to VerinferGovernor; prints the proposal id and the voting blocks.
    ///
    /// An action is `<target>:<signature>[:<arg>]...` (arguments parsed by the signature's types:
    /// integers, `2000ether`, addresses, `true`, `[1,2]`) or `<target>:0x<calldata>`; `<target>` is a
    /// manifest contract name (`Staking`, `Slasher`, ...) or an address. Actions send no value.
    /// The actions are first executed in order from the timelock on a fork of the chain head; one
    /// that reverts stops the proposal with its decoded error unless --force is given.
    ///
    /// Example: verinfer gov propose --action Staking:setMinOperatorStake(uint256):2000ether --description "raise the minimum stake"
    Propose(ProposeArgs),
    /// Cast the sender's vote (its quadratic voice at the proposal snapshot).
    ///
    /// Example: verinfer gov vote --proposal 1234... --support for --reason "fine by me"
    Vote(VoteArgs),
    /// Queue a succeeded proposal in the timelock; prints when it becomes executable.
    ///
    /// Example: verinfer gov queue --proposal 1234...
    Queue(ProposalCallArgs),
    /// Execute a queued proposal once its timelock delay has passed.
    ///
    /// Example: verinfer gov execute --proposal 1234...
    Execute(ProposalCallArgs),
    /// Print a proposal's state, votes for/against/abstain, quorum and eta (needs no key).
    ///
    /// Example: verinfer gov status --proposal 1234...
    Status(StatusArgs),
}

/// `gov propose`.
#[derive(Args, Debug)]
pub struct ProposeArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// A proposal action (repeat, in order): `<target>:<signature>[:<arg>]...` or `<target>:0x<calldata>`.
    #[arg(long = "action", value_name = "TARGET:CALL", required = true)]
    actions: Vec<String>,
    /// Proposal description (free text; needed again by queue/execute unless --proposal is used).
    #[arg(long)]
    description: String,
    /// Propose even when an action reverts in the simulation that runs first (each action executed
    /// in order from the timelock on a fork of the chain's head, as `verinfer sim fork
    /// --proposal-action` does).
    #[arg(long)]
    force: bool,
}

/// `gov vote`.
#[derive(Args, Debug)]
pub struct VoteArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Proposal id.
    #[arg(long)]
    proposal: String,
    /// `for`, `against` or `abstain`.
    #[arg(long)]
    support: String,
    /// Optional reason, stored in the VoteCast event.
    #[arg(long)]
    reason: Option<String>,
}

/// How `queue`/`execute` name a proposal: its id (actions recovered from the ProposalCreated
/// event), or the same actions and description it was proposed with.
#[derive(Args, Debug)]
pub struct ProposalCallArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Proposal id, as printed by `gov propose`; its actions and description are read back from
    /// the governor's ProposalCreated event.
    #[arg(long, conflicts_with_all = ["actions", "description"])]
    proposal: Option<String>,
    /// A proposal action (repeat, in order): `<contract-or-address>:<signature>[:<arg>]...`
    /// or `<contract-or-address>:0x<calldata>`. Contract names come from the deployment manifest.
    #[arg(long = "action", value_name = "TARGET:CALL")]
    actions: Vec<String>,
    /// The proposal's description (exactly as proposed: its hash is part of the id).
    #[arg(long)]
    description: Option<String>,
}

/// `gov status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    out: OutputArgs,
    /// Proposal id.
    #[arg(long)]
    proposal: String,
}

impl GovCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Self::Propose(a) => propose(a).await,
            Self::Vote(a) => vote(a).await,
            Self::Queue(a) => queue(a).await,
            Self::Execute(a) => execute(a).await,
            Self::Status(a) => status(a).await,
        }
    }
}

async fn propose(a: ProposeArgs) -> Result<()> {
    let client = a.chain.connect().await?;
    let p = Proposal {
        actions: parse_actions(&a.actions, client.manifest(), client.manifest_path())?,
        description: a.description,
    };
    let failures = simulate_actions(&a.chain.rpc.url(), &client, &p.actions).await?;
    if !failures.is_empty() {
        let mut msg = String::new();
        for f in &failures {
            msg += &format!(
                "\n  action {} {} reverts: {}",
                f.index + 1,
                f.call,
                f.reason
            );
        }
        if !a.force {
            bail!(
                "the proposal would fail when executed from the timelock (simulated on a fork of the chain head):{msg}\n(pass --force to propose it anyway)"
            );
        }
        eprintln!("warning: proposing although the simulation fails (--force):{msg}");
    }
    let done = client.propose(&p).await?;
    let ev = &done.event;
    let out = a.out;
    let calls: Vec<String> = p
        .actions
        .iter()
        .map(|action| describe_call(action.target, &action.data, client.manifest()))
        .collect();
    out.line(format!("proposal {}", ev.proposalId));
    out.line(format!(
        "  proposer      {} (tx {})",
        ev.proposer, done.receipt.transaction_hash
    ));
    for call in &calls {
        out.line(format!("  action        {call}"));
    }
    out.line(format!(
        "  voting        blocks {} ..= {} (opens after block {})",
        ev.voteStart + U256::from(1),
        ev.voteEnd,
        ev.voteStart
    ));
    if done.touches_governance {
        out.line("  note          touches governance: 2x quorum and a 2/3 supermajority");
    }
    out.result(&json!({
        "proposal": ev.proposalId.to_string(),
        "proposer": addr(ev.proposer),
        "actions": p.actions.iter().zip(&calls).map(|(action, call)| json!({
            "target": addr(action.target),
            "calldata": action.data,
            "call": call,
        })).collect::<Vec<_>>(),
        "voteStart": ev.voteStart.to_string(),
        "voteEnd": ev.voteEnd.to_string(),
        "touchesGovernance": done.touches_governance,
        "simulationFailures": failures.iter().map(|f| json!({
            "action": f.index,
            "call": f.call,
            "reason": f.reason,
        })).collect::<Vec<_>>(),
        "receipt": receipt(&done.receipt),
    }));
    Ok(())
}

/// An action that fails in the simulation before proposing.
struct FailedAction {
    /// Its position (0-based).
    index: usize,
    /// `Contract.function(args)`.
    call: String,
    /// The decoded revert (or halt).
    reason: String,
}

/// Executes `actions` in order from the timelock on a fork of the chain head (nothing is sent;
/// the fork of `verinfer sim fork`), each on the state the earlier ones left; returns those that
/// revert or halt, with the decoded reason.
async fn simulate_actions(
    url: &str,
    client: &Client,
    actions: &[Action],
) -> Result<Vec<FailedAction>> {
    let block = client
        .provider()
        .get_block_number()
        .await
        .context("reading the chain head to simulate the proposal")?;
    let client = client.clone();
    let path = client.manifest_path().to_path_buf();
    let url = url.to_owned();
    let actions = actions.to_vec();
    tokio::task::spawn_blocking(move || -> Result<Vec<FailedAction>> {
        let mut fork = ForkSim::new(&url, block, &path)?;
        let mut failed = Vec::new();
        for (index, action) in actions.iter().enumerate() {
            let call = describe_call(action.target, &action.data, client.manifest());
            let reason = match fork.what_if_proposal(None, &[(action.target, action.data.clone())])
            {
                Ok(_) => continue,
                Err(ForkError::Sim(SimError::Reverted { data, .. })) => {
                    client.decode_revert(Some(action.target), &data).to_string()
                }
                Err(ForkError::Sim(e @ SimError::Halted { .. })) => e.to_string(),
                Err(e) => return Err(e.into()),
            };
            failed.push(FailedAction {
                index,
                call,
                reason,
            });
        }
        Ok(failed)
    })
    .await
    .context("proposal simulation task")?
}

async fn vote(a: VoteArgs) -> Result<()> {
    let support = parse_support(&a.support)?;
    let id = parse_proposal_id(&a.proposal)?;
    let client = a.chain.connect().await?;
    let done = client.cast_vote(id, support, a.reason.as_deref()).await?;
    let verb = match support {
        VoteType::Against => "against",
        VoteType::For => "for",
        VoteType::Abstain => "abstain",
    };
    let out = a.out;
    out.line(format!(
        "{} voted {verb} on proposal {id} with weight {} (tx {})",
        client.sender(),
        done.weight,
        done.receipt.transaction_hash
    ));
    if done.weight.is_zero() {
        out.line(
            "note: the sender had no voice at the proposal snapshot (voice = stake held before the proposal, delegated to the voter)",
        );
    }
    out.result(&json!({
        "proposal": id.to_string(),
        "voter": addr(client.sender()),
        "support": verb,
        "weight": done.weight.to_string(),
        "receipt": receipt(&done.receipt),
    }));
    Ok(())
}

impl ProposalCallArgs {
    async fn resolve(&self, client: &Client) -> Result<Proposal> {
        if let Some(id) = &self.proposal {
            return Ok(client.recover_proposal(parse_proposal_id(id)?).await?);
        }
        if self.actions.is_empty() {
            bail!(
                "name the proposal with --proposal <id>, or with its --action(s) and --description"
            );
        }
        let Some(description) = &self.description else {
            bail!("--description is required with --action")
        };
        Ok(Proposal {
            actions: parse_actions(&self.actions, client.manifest(), client.manifest_path())?,
            description: description.clone(),
        })
    }
}

async fn queue(a: ProposalCallArgs) -> Result<()> {
    let client = a.chain.connect().await?;
    let p = a.resolve(&client).await?;
    let (r, eta) = client.queue(&p).await?;
    let now = client.chain_time().await?;
    a.out.line(format!(
        "proposal {} queued in the timelock (tx {}); executable from unix time {eta} ({})",
        p.id(),
        r.transaction_hash,
        until(eta, now)
    ));
    a.out.result(&json!({
        "proposal": p.id().to_string(),
        "eta": eta.to_string(),
        "ready": eta <= U256::from(now),
        "receipt": receipt(&r),
    }));
    Ok(())
}

async fn execute(a: ProposalCallArgs) -> Result<()> {
    let client = a.chain.connect().await?;
    let p = a.resolve(&client).await?;
    let r = client.execute(&p).await?;
    a.out.line(format!(
        "proposal {} executed (tx {}, {} action(s))",
        p.id(),
        r.transaction_hash,
        p.actions.len()
    ));
    a.out.result(&json!({
        "proposal": p.id().to_string(),
        "actions": p.actions.len(),
        "receipt": receipt(&r),
    }));
    Ok(())
}

async fn status(a: StatusArgs) -> Result<()> {
    let id = parse_proposal_id(&a.proposal)?;
    let client = a.rpc.connect_read_only().await?;
    let s = client.proposal_status(id).await?;
    let state = s.state.map_or("Unknown", |st| st.name());
    if a.out.json {
        a.out.result(&json!({
            "proposal": id.to_string(),
            "state": state,
            "proposer": addr(s.proposer),
            "snapshot": s.snapshot.to_string(),
            "deadline": s.deadline.to_string(),
            "head": s.head,
            "votes": {
                "for": s.votes.0.to_string(),
                "against": s.votes.1.to_string(),
                "abstain": s.votes.2.to_string(),
            },
            "quorum": s.quorum.map(|q| q.to_string()),
            "touchesGovernance": s.touches_governance,
            "eta": (!s.eta.is_zero()).then(|| s.eta.to_string()),
            "now": s.now,
        }));
        return Ok(());
    }
    println!("proposal {id}");
    println!("  state         {state}");
    println!("  proposer      {}", s.proposer);
    println!(
        "  voting        blocks {} ..= {} (now {})",
        s.snapshot + U256::from(1),
        s.deadline,
        s.head
    );
    println!("  for           {}", s.votes.0);
    println!("  against       {}", s.votes.1);
    println!("  abstain       {}", s.votes.2);
    let quorum = match s.quorum {
        Some(q) if s.touches_governance => format!("{q} (2x for a governance proposal)"),
        Some(q) => q.to_string(),
        None => format!("not yet known (taken at block {})", s.snapshot),
    };
    println!("  quorum        {quorum}");
    if s.eta.is_zero() {
        println!("  eta           - (not queued)");
    } else {
        println!(
            "  eta           {} (unix time; {})",
            s.eta,
            until(s.eta, s.now)
        );
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
