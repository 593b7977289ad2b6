//! Governance through `VerinferGovernor`: proposals as actions, the action syntax shared by
//! `verinfer gov` and `verinfer sim fork`, and propose / vote / queue / execute / status.
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
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::sol_types::SolEvent;
use verinfer_bindings::types::{ProposalState, VoteType};
use verinfer_bindings::VerinferGovernor;
use verinfer_deploy::Manifest;

use crate::client::{events, first_event, Client};
use crate::error::ClientError;

/// An `--action` (or a target or proposal id) that cannot be understood; names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The action text is malformed.
    #[error("--action `{spec}`: {reason}")]
    Action {
        /// The action as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The target is neither an address nor a manifest contract.
    #[error("unknown contract `{name}`: {path} lists {known}")]
    UnknownContract {
        /// The name given.
        name: String,
        /// The manifest.
        path: String,
        /// The contracts it lists.
        known: String,
    },
    /// A `0x…` target is not an address.
    #[error("`{0}` is not an address")]
    BadAddress(String),
    /// Not a proposal id.
    #[error("--proposal: `{0}` is not a proposal id (decimal or 0x hex)")]
    BadProposalId(String),
    /// Not a vote type.
    #[error("--support: `{0}` is not one of for, against, abstain")]
    BadSupport(String),
}

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
    /// The targets, in order.
    pub fn targets(&self) -> Vec<Address> {
        self.actions.iter().map(|a| a.target).collect()
    }
    /// The values (always zero: actions send no value).
    pub fn values(&self) -> Vec<U256> {
        vec![U256::ZERO; self.actions.len()]
    }
    /// The calldatas, in order.
    pub fn calldatas(&self) -> Vec<Bytes> {
        self.actions.iter().map(|a| a.data.clone()).collect()
    }
    /// `keccak256(description)`.
    pub fn description_hash(&self) -> alloy::primitives::B256 {
        keccak256(self.description.as_bytes())
    }
    /// The governor's proposal id (`hashProposal`).
    pub fn id(&self) -> U256 {
        use alloy::sol_types::SolValue;
        let hash = keccak256(
            (
                self.targets(),
                self.values(),
                self.calldatas(),
                self.description_hash(),
            )
                .abi_encode_params(),
        );
        U256::from_be_bytes(hash.0)
    }
}

/// Resolves a manifest contract name or an address.
pub fn resolve_target(name: &str, m: &Manifest, path: &Path) -> Result<Address, ActionError> {
    if name.starts_with("0x") {
        return name
            .parse()
            .map_err(|_| ActionError::BadAddress(name.to_owned()));
    }
    m.contracts
        .get(name)
        .copied()
        .ok_or_else(|| ActionError::UnknownContract {
            name: name.to_owned(),
            path: path.display().to_string(),
            known: m.contracts.keys().cloned().collect::<Vec<_>>().join(", "),
        })
}

/// Parses one `--action` (see the module docs).
pub fn parse_action(spec: &str, m: &Manifest, path: &Path) -> Result<Action, ActionError> {
    let bad = |reason: String| ActionError::Action {
        spec: spec.to_owned(),
        reason,
    };
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
pub fn parse_actions(
    specs: &[String],
    m: &Manifest,
    path: &Path,
) -> Result<Vec<Action>, ActionError> {
    specs.iter().map(|s| parse_action(s, m, path)).collect()
}

/// Parses a proposal id (decimal as printed by `gov propose`, or 0x hex).
pub fn parse_proposal_id(s: &str) -> Result<U256, ActionError> {
    let r = if let Some(hex) = s.strip_prefix("0x") {
        U256::from_str_radix(hex, 16)
    } else {
        U256::from_str_radix(s, 10)
    };
    r.map_err(|_| ActionError::BadProposalId(s.to_owned()))
}

/// Describes a call for humans: `Staking.setMinOperatorStake(value = 2500 VINF)` when the target is
/// a manifest contract whose ABI has the selector ([`verinfer_bindings::decode::describe_call`]),
/// else `<name or address>: 0x<calldata>`.
pub fn describe_call(target: Address, data: &[u8], m: &Manifest) -> String {
    let name = m
        .contracts
        .iter()
        .find(|(_, a)| **a == target)
        .map(|(n, _)| n.as_str());
    if let Some(d) = name.and_then(|n| verinfer_bindings::decode::describe_call(n, data)) {
        return d;
    }
    format!(
        "{}: {}",
        name.map_or_else(|| target.to_string(), str::to_owned),
        Bytes::copy_from_slice(data)
    )
}

/// Parses `--support`: `for`, `against`, `abstain` (any case) or `0`/`1`/`2`.
pub fn parse_support(s: &str) -> Result<VoteType, ActionError> {
    match s.to_ascii_lowercase().as_str() {
        "against" | "0" => Ok(VoteType::Against),
        "for" | "1" => Ok(VoteType::For),
        "abstain" | "2" => Ok(VoteType::Abstain),
        _ => Err(ActionError::BadSupport(s.to_owned())),
    }
}

/// A proposal the governor accepted.
#[derive(Debug, Clone)]
pub struct Proposed {
    /// The `ProposalCreated` event.
    pub event: VerinferGovernor::ProposalCreated,
    /// Whether the governor flagged it as touching governance (2x quorum, 2/3 supermajority).
    pub touches_governance: bool,
    /// The receipt.
    pub receipt: TransactionReceipt,
}

/// A cast vote.
#[derive(Debug, Clone)]
pub struct Voted {
    /// The voter's weight (zero: no voice at the snapshot).
    pub weight: U256,
    /// The receipt.
    pub receipt: TransactionReceipt,
}

/// Everything `verinfer gov status` shows about a proposal.
#[derive(Debug, Clone)]
pub struct ProposalStatus {
    /// Its state (`None` for a value outside OpenZeppelin's enum).
    pub state: Option<ProposalState>,
    /// The proposer.
    pub proposer: Address,
    /// The snapshot block (voting opens after it).
    pub snapshot: U256,
    /// The last voting block.
    pub deadline: U256,
    /// Votes for, against, abstain.
    pub votes: (U256, U256, U256),
    /// Whether it touches governance (2x quorum).
    pub touches_governance: bool,
    /// The quorum at the snapshot (already doubled for a governance proposal); `None` before the
    /// snapshot block exists.
    pub quorum: Option<U256>,
    /// The timelock eta, zero when not queued.
    pub eta: U256,
    /// The head block.
    pub head: u64,
    /// The head block's timestamp.
    pub now: u64,
}

impl Client {
    fn governor(&self) -> Result<Address, ClientError> {
        self.contract("VerinferGovernor")
    }

    /// Proposes `p`.
    pub async fn propose(&self, p: &Proposal) -> Result<Proposed, ClientError> {
        let call = VerinferGovernor::proposeCall {
            targets: p.targets(),
            values: p.values(),
            calldatas: p.calldatas(),
            description: p.description.clone(),
        };
        let receipt = self.send("propose", self.governor()?, &call).await?;
        let event = first_event::<VerinferGovernor::ProposalCreated>("propose", &receipt)?;
        let touches_governance =
            !events::<VerinferGovernor::GovernanceProposalFlagged>(&receipt).is_empty();
        Ok(Proposed {
            event,
            touches_governance,
            receipt,
        })
    }

    /// Casts the sender's vote on `id`, with an optional reason.
    pub async fn cast_vote(
        &self,
        id: U256,
        support: VoteType,
        reason: Option<&str>,
    ) -> Result<Voted, ClientError> {
        let governor = self.governor()?;
        let receipt = match reason {
            Some(reason) => {
                let call = VerinferGovernor::castVoteWithReasonCall {
                    proposalId: id,
                    support: support.into(),
                    reason: reason.to_owned(),
                };
                self.send("castVote", governor, &call).await?
            }
            None => {
                let call = VerinferGovernor::castVoteCall {
                    proposalId: id,
                    support: support.into(),
                };
                self.send("castVote", governor, &call).await?
            }
        };
        let weight = events::<VerinferGovernor::VoteCast>(&receipt)
            .first()
            .map(|e| e.weight)
            .unwrap_or_default();
        Ok(Voted { weight, receipt })
    }

    /// Queues a succeeded proposal in the timelock; returns the receipt and the eta (unix time).
    pub async fn queue(&self, p: &Proposal) -> Result<(TransactionReceipt, U256), ClientError> {
        let call = VerinferGovernor::queueCall {
            targets: p.targets(),
            values: p.values(),
            calldatas: p.calldatas(),
            descriptionHash: p.description_hash(),
        };
        let receipt = self.send("queue", self.governor()?, &call).await?;
        let eta = events::<VerinferGovernor::ProposalQueued>(&receipt)
            .first()
            .map(|e| e.etaSeconds)
            .unwrap_or_default();
        Ok((receipt, eta))
    }

    /// Executes a queued proposal whose timelock delay has passed.
    pub async fn execute(&self, p: &Proposal) -> Result<TransactionReceipt, ClientError> {
        let call = VerinferGovernor::executeCall {
            targets: p.targets(),
            values: p.values(),
            calldatas: p.calldatas(),
            descriptionHash: p.description_hash(),
        };
        self.send("execute", self.governor()?, &call).await
    }

    /// Finds the `ProposalCreated` event of `id` and rebuilds its actions and description.
    pub async fn recover_proposal(&self, id: U256) -> Result<Proposal, ClientError> {
        let governor = self.governor()?;
        let g = VerinferGovernor::new(governor, self.provider());
        let snapshot: u64 = g
            .proposalSnapshot(id)
            .call()
            .await
            .map_err(ClientError::view("reading proposalSnapshot"))?
            .try_into()
            .unwrap_or(u64::MAX);
        let missing = |why: String| ClientError::Unexpected {
            what: format!("proposal {id}"),
            value: why,
        };
        if snapshot == 0 {
            return Err(missing(format!(
                "proposal {id} does not exist on the governor at {governor}"
            )));
        }
        // Created at `snapshot - votingDelay`, and the voting delay is at most MAX_VOTING_DELAY.
        let from = snapshot.saturating_sub(100_800).max(self.manifest().block);
        let mut lo = from;
        while lo <= snapshot {
            let hi = (lo + crate::logs::LOG_RANGE - 1).min(snapshot);
            let filter = Filter::new()
                .address(governor)
                .event_signature(VerinferGovernor::ProposalCreated::SIGNATURE_HASH)
                .from_block(lo)
                .to_block(hi);
            let logs = self
                .provider()
                .get_logs(&filter)
                .await
                .map_err(ClientError::rpc(format!(
                    "reading ProposalCreated logs in blocks {lo}..={hi}"
                )))?;
            for l in logs {
                let Ok(ev) = VerinferGovernor::ProposalCreated::decode_log_data(l.data()) else {
                    continue;
                };
                if ev.proposalId != id {
                    continue;
                }
                if ev.values.iter().any(|v| !v.is_zero()) {
                    return Err(missing(
                        "it sends value; only value-free actions are handled".to_owned(),
                    ));
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
        Err(missing(format!(
            "no ProposalCreated event in blocks {from}..={snapshot}"
        )))
    }

    /// Reads a proposal's state, votes, quorum and eta. A state read that reverts (e.g. an unknown
    /// proposal) is reported decoded.
    pub async fn proposal_status(&self, id: U256) -> Result<ProposalStatus, ClientError> {
        let g = VerinferGovernor::new(self.governor()?, self.provider());
        let state = match g.state(id).call().await {
            Ok(s) => ProposalState::of(s),
            Err(e) => {
                return Err(match e.as_revert_data() {
                    Some(data) => ClientError::WouldRevert {
                        what: format!("reading the state of proposal {id}"),
                        reason: Box::new(verinfer_bindings::decode::decode_revert_from(
                            &data,
                            "VerinferGovernor",
                        )),
                        data,
                    },
                    None => ClientError::View {
                        what: "reading the proposal state".to_owned(),
                        source: Box::new(e),
                    },
                })
            }
        };
        let v = |what: &'static str| ClientError::view(what);
        let snapshot = g
            .proposalSnapshot(id)
            .call()
            .await
            .map_err(v("proposalSnapshot"))?;
        let deadline = g
            .proposalDeadline(id)
            .call()
            .await
            .map_err(v("proposalDeadline"))?;
        let votes = g
            .proposalVotes(id)
            .call()
            .await
            .map_err(v("proposalVotes"))?;
        let touches_governance = g
            .isGovernanceProposal(id)
            .call()
            .await
            .map_err(v("isGovernanceProposal"))?;
        let quorum = g.quorum(snapshot).call().await.ok().map(|q| {
            if touches_governance {
                q * U256::from(2)
            } else {
                q
            }
        });
        let eta = g.proposalEta(id).call().await.map_err(v("proposalEta"))?;
        let proposer = g
            .proposalProposer(id)
            .call()
            .await
            .map_err(v("proposalProposer"))?;
        let head = self
            .provider()
            .get_block_number()
            .await
            .map_err(ClientError::rpc("reading the head block"))?;
        let now = self.chain_time().await?;
        Ok(ProposalStatus {
            state,
            proposer,
            snapshot,
            deadline,
            votes: (votes.forVotes, votes.againstVotes, votes.abstainVotes),
            touches_governance,
            quorum,
            eta,
            head,
            now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::{SolCall, SolInterface};
    use std::collections::BTreeMap;
    use verinfer_bindings::VerinferGovernor::VerinferGovernorErrors;

    fn manifest() -> Manifest {
        let mut contracts = BTreeMap::new();
        contracts.insert("Staking".to_owned(), Address::repeat_byte(0x51));
        Manifest {
            chain_id: 31337,
            block: 1,
            contracts,
            deployment: None,
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
        let d = verinfer_bindings::decode::decode_revert(&data);
        assert_eq!(
            d.hint.as_deref(),
            Some("proposal 7 is Pending, but this needs it to be Succeeded"),
            "{d}"
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
        assert_eq!(parse_support("Abstain").unwrap(), VoteType::Abstain);
        assert!(parse_support("maybe").is_err());
    }
}
