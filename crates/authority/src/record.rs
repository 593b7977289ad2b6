//! The ledger's records: what was decided ([`DecisionKind`], [`Subject`]), how ([`Rule`], grouped
//! into a [`Path`]) and by whom ([`Decider`]); and its input ([`ChainLog`]).

use alloy::primitives::{Address, Log, B256, U256};
use serde::Serialize;

/// One log of the chain, with where it was emitted: the input of [`crate::AuthorityLedger::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLog {
    /// The log (emitting contract, topics, data).
    pub log: Log,
    /// Its block.
    pub block: u64,
    /// Its transaction (logs of one transaction share it; any unique id will do off chain).
    pub tx: B256,
    /// The transaction's sender, when the source knows it (the simulator does; `eth_getLogs` does
    /// not). It names the admin of an admin decision and tells a timelock call made directly.
    pub sender: Option<Address>,
}

impl ChainLog {
    /// A log from JSON-RPC (`eth_getLogs`): its block and transaction hash, no sender. `None` for a
    /// pending log (no block or no transaction yet).
    pub fn from_rpc(log: &alloy::rpc::types::Log) -> Option<Self> {
        Some(Self {
            log: log.inner.clone(),
            block: log.block_number?,
            tx: log.transaction_hash?,
            sender: None,
        })
    }
}

/// What kind of decision a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// A request's result became final (or the request ended without one).
    Finalization,
    /// A dispute was ruled: by the `DisputeGovernor`'s vote or the `Referee`'s game.
    DisputeRuling,
    /// The Slasher was asked to slash an operator.
    Slash,
    /// A pending slash was cancelled by governance.
    Veto,
    /// A parameter of a contract changed (`ParameterChanged` and the contracts' own parameter events).
    ParameterChange,
    /// A model was registered in the `InferenceRegistry`.
    ModelRegistration,
    /// An identity issuer was approved in the `IdentityRegistry`.
    IssuerApproval,
    /// An identity issuer was revoked in the `IdentityRegistry`.
    IssuerRevocation,
}

impl DecisionKind {
    /// Every kind, in display order.
    pub const ALL: [DecisionKind; 8] = [
        Self::Finalization,
        Self::DisputeRuling,
        Self::Slash,
        Self::Veto,
        Self::ParameterChange,
        Self::ModelRegistration,
        Self::IssuerApproval,
        Self::IssuerRevocation,
    ];

    /// Its name in tables (`dispute_ruling`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Finalization => "finalization",
            Self::DisputeRuling => "dispute_ruling",
            Self::Slash => "slash",
            Self::Veto => "veto",
            Self::ParameterChange => "parameter_change",
            Self::ModelRegistration => "model_registration",
            Self::IssuerApproval => "issuer_approval",
            Self::IssuerRevocation => "issuer_revocation",
        }
    }
}

/// How a decision was taken, broadly: the six paths of authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// Arithmetic on chain: a proof or a check anyone can submit decides, nobody's judgement does.
    Arithmetic,
    /// An operator quorum: the assigned operators' matching attestations.
    Quorum,
    /// A stake-holders' vote.
    Vote,
    /// A default or a timeout: nothing was decided by anybody and a rule's fallback stood.
    Default,
    /// The admin account, directly.
    Admin,
    /// The timelock, executing a governance proposal.
    Timelock,
}

impl Path {
    /// Every path, in display order.
    pub const ALL: [Path; 6] = [
        Self::Arithmetic,
        Self::Quorum,
        Self::Vote,
        Self::Default,
        Self::Admin,
        Self::Timelock,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Arithmetic => "arithmetic",
            Self::Quorum => "quorum",
            Self::Vote => "vote",
            Self::Default => "default",
            Self::Admin => "admin",
            Self::Timelock => "timelock",
        }
    }
}

/// The rule that decided, finer than its [`Path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Two signatures of one operator for different outputs of one request (`reportEquivocation`).
    EquivocationProof,
    /// An assigned operator did not answer by the deadline (`reportMissed`).
    MissedDeadline,
    /// The referee's game ended by its one-step check of the integer MLP.
    OneStepCheck,
    /// The assigned operators' quorum of matching answers, unchallenged through the window.
    OperatorQuorum,
    /// A `DisputeGovernor` vote that reached quorum.
    DisputeVote,
    /// A drafted jury's decided ruling (`JuryRuled` with `decided`): the coherent jurors of the final
    /// round decided it.
    DraftedJury,
    /// A dispute vote without quorum: the status quo stood.
    NoQuorum,
    /// A referee game ended because one side stopped moving.
    RefereeTimeout,
    /// A referee game neither side committed to: the status quo stood.
    NoCommitment,
    /// A request's deadline passed without a quorum (nor a disagreement to escalate).
    RequestExpired,
    /// The challenge window of an availability challenge expired without the output published.
    OutputUnavailable,
    /// The admin account called the contract.
    AdminCall,
    /// The timelock called the contract (a governance proposal, when one is found in the
    /// transaction).
    TimelockCall,
}

impl Rule {
    /// The path this rule belongs to.
    pub fn path(self) -> Path {
        match self {
            Self::EquivocationProof | Self::MissedDeadline | Self::OneStepCheck => Path::Arithmetic,
            Self::OperatorQuorum => Path::Quorum,
            Self::DisputeVote | Self::DraftedJury => Path::Vote,
            Self::NoQuorum
            | Self::RefereeTimeout
            | Self::NoCommitment
            | Self::RequestExpired
            | Self::OutputUnavailable => Path::Default,
            Self::AdminCall => Path::Admin,
            Self::TimelockCall => Path::Timelock,
        }
    }

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::EquivocationProof => "equivocation proof",
            Self::MissedDeadline => "missed deadline",
            Self::OneStepCheck => "one-step check",
            Self::OperatorQuorum => "operator quorum",
            Self::DisputeVote => "dispute vote",
            Self::DraftedJury => "drafted jury",
            Self::NoQuorum => "no quorum (status quo)",
            Self::RefereeTimeout => "referee timeout",
            Self::NoCommitment => "no commitment (status quo)",
            Self::RequestExpired => "request expired",
            Self::OutputUnavailable => "output unavailable at window end",
            Self::AdminCall => "admin call",
            Self::TimelockCall => "timelock call",
        }
    }
}

/// A person: who stands behind an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Person {
    /// An identity of the `IdentityRegistry` (all its linked accounts are one person).
    Identity(U256),
    /// An account linked to no identity: it is its own person.
    Account(Address),
    /// A person the caller named (e.g. the simulator's staker index).
    Named(String),
}

/// In what capacity a decider decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An operator whose attestation made the quorum.
    Operator,
    /// A voter of the deciding coalition.
    Voter,
    /// The admin account.
    Admin,
    /// The timelock itself (a call with no proposal found behind it).
    Timelock,
}

/// One account whose action was decisive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decider {
    /// The account (operator, voter, admin).
    pub account: Address,
    /// In what capacity.
    pub role: Role,
    /// Its person at the decision.
    pub person: Person,
    /// Its capital at the decision, tokens: the operator's stake for an operator, the account's own
    /// stake for a voter or an admin.
    pub capital: f64,
    /// Its vote weight, for a voter (voice units as the contract counted them).
    pub weight: Option<U256>,
}

/// What a decision was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A request's final output (zero = no valid result) or its expiry.
    Request {
        /// The request.
        request: U256,
        /// The output it finalized with; `None` when it expired.
        output: Option<B256>,
    },
    /// A dispute's ruling.
    Dispute {
        /// The registry's dispute id (a vote's id, or a referee game's id).
        dispute: U256,
        /// The ruled output (zero = no valid result).
        outcome: B256,
    },
    /// A slash request and what became of it.
    Slash {
        /// The Slasher's id.
        slash: U256,
        /// The operator.
        operator: Address,
        /// The fault kind (`ISlasher.FaultKind`: 0 equivocation, 1 wrong result, 2 missed).
        fault: u8,
        /// Whether at least one installment was executed in the logs.
        executed: bool,
        /// Whether governance vetoed it.
        vetoed: bool,
    },
    /// A parameter's new value, as the event gave it.
    Parameter {
        /// The parameter (the event's name, or `ParameterChanged`'s `name` as text).
        name: String,
        /// The new value, as text.
        value: String,
    },
    /// A model.
    Model {
        /// The model id.
        model: B256,
    },
    /// An identity issuer.
    Issuer {
        /// The issuer's account.
        issuer: Address,
    },
}

/// One decision of the protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Position in the ledger (chain order).
    pub index: usize,
    /// What kind of decision.
    pub kind: DecisionKind,
    /// The rule that decided.
    pub rule: Rule,
    /// Its path.
    pub path: Path,
    /// Block of the decision.
    pub block: u64,
    /// Epoch of the decision (see [`crate::build::LedgerContext`]).
    pub epoch: u64,
    /// Transaction of the decision.
    pub tx: B256,
    /// The contract that emitted it.
    pub contract: Address,
    /// What was decided.
    pub subject: Subject,
    /// Whose action was decisive (empty for arithmetic and defaults: nobody's judgement decided).
    pub deciders: Vec<Decider>,
    /// The decision this one carries out (a finalization or a slash after a dispute ruling, a slash
    /// that a veto cancels), by [`Decision::index`].
    pub follows: Option<usize>,
}
