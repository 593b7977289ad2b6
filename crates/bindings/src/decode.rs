//! The one decoder of the suite's ABI data for humans: revert data ([`decode_revert`]) and calldata
//! ([`describe_call`]), over every error and function of every contract and interface in the
//! bindings ([`crate::ARTIFACTS`]).
//!
//! A custom error is shown with its argument names and values, amounts in tokens (`0.01 VINF`),
//! times as unix seconds with their UTC date, enums by name, plus a hint saying what to do:
//!
//! ```
//! use alloy::primitives::U256;
//! use alloy::sol_types::SolError;
//! use verinfer_bindings::decode::decode_revert;
//! use verinfer_bindings::InferenceRegistry::FeeOutOfRange;
//! use verinfer_bindings::units::TOKEN;
//!
//! let data = FeeOutOfRange {
//!     fee: U256::ZERO,
//!     minFee: U256::from(TOKEN / 100),
//!     maxFee: U256::from(1_000_000 * TOKEN),
//! }
//! .abi_encode();
//! let d = decode_revert(&data);
//! assert_eq!(
//!     d.to_string(),
//!     "InferenceRegistry::FeeOutOfRange(fee = 0 VINF, minFee = 0.01 VINF, maxFee = 1000000 VINF) \
//!      (hint: pass --fee between 0.01 and 1000000)"
//! );
//! ```
//!
//! An error several contracts declare with the same signature (`UnauthorizedCaller(address)`,
//! `ParameterOutOfBounds(..)`) carries a contract label only when the caller names the contract it
//! called ([`decode_revert_from`]): the selector alone cannot tell which contract reverted.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::{Error as AbiError, Function, JsonAbi, Param};
use alloy::primitives::{Bytes, Selector, U256};
use alloy::sol_types::{Panic, Revert, SolError};

use crate::types::{
    CallbackState, DisputeStatus, FaultKind, ProposalState, RequestStatus, SlashStatus,
    VerificationMode, VoteType,
};
use crate::units::{format_tokens, SYMBOL};

/// One error signature and the contracts (then interfaces) whose ABI declares it.
#[derive(Debug)]
struct DeclaredError {
    error: AbiError,
    contracts: Vec<&'static str>,
}

/// Errors by selector, and each contract's functions by selector.
#[derive(Debug, Default)]
struct Index {
    errors: BTreeMap<Selector, DeclaredError>,
    functions: BTreeMap<(&'static str, Selector), Function>,
}

#[derive(serde::Deserialize)]
struct ArtifactAbi {
    abi: JsonAbi,
}

fn parse_artifact(text: &str) -> Option<JsonAbi> {
    serde_json::from_str::<ArtifactAbi>(text)
        .ok()
        .map(|a| a.abi)
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut ix = Index::default();
        // Contracts before interfaces: a label prefers the contract that implements the error.
        let mut artifacts: Vec<&(&'static str, &'static str)> = crate::ARTIFACTS.iter().collect();
        artifacts.sort_by_key(|(name, _)| is_interface(name));
        for (name, text) in artifacts {
            // A committed artifact that does not parse is caught by this module's tests.
            let Some(abi) = parse_artifact(text) else {
                continue;
            };
            for e in abi.errors() {
                ix.errors
                    .entry(e.selector())
                    .or_insert_with(|| DeclaredError {
                        error: e.clone(),
                        contracts: Vec::new(),
                    })
                    .contracts
                    .push(name);
            }
            for f in abi.functions() {
                ix.functions.insert((name, f.selector()), f.clone());
            }
        }
        ix
    })
}

/// `IStaking`, `ISlasher`, ...: an interface, by the suite's naming.
fn is_interface(name: &str) -> bool {
    let mut c = name.chars();
    c.next() == Some('I') && c.next().is_some_and(char::is_uppercase)
}

/// What a revert's data turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertKind {
    /// A custom error declared in the bindings.
    Custom {
        /// The contract the error is attributed to: the one called, when it declares the error,
        /// or the only contract declaring it; `None` when several do and the caller did not say.
        contract: Option<&'static str>,
        /// The error's name, e.g. `FeeOutOfRange`.
        name: String,
        /// Each argument's name and its value as shown (amounts in tokens, times with a date).
        args: Vec<(String, String)>,
    },
    /// `Error(string)` (a `require` with a message).
    Message(String),
    /// `Panic(uint256)` with its code's meaning.
    Panic(String),
    /// No revert data at all (e.g. a plain `revert()`, or out of gas).
    Empty,
    /// Data no error of the bindings decodes.
    Unknown(Bytes),
}

/// A revert decoded for humans: the error with its arguments, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRevert {
    /// What the data is.
    pub kind: RevertKind,
    /// What the user can do, when the error has a usual fix.
    pub hint: Option<String>,
}

impl DecodedRevert {
    /// The error's name (`FeeOutOfRange`, `Error`, `Panic`), if the data decoded.
    pub fn name(&self) -> Option<&str> {
        match &self.kind {
            RevertKind::Custom { name, .. } => Some(name),
            RevertKind::Message(_) => Some("Error"),
            RevertKind::Panic(_) => Some("Panic"),
            RevertKind::Empty | RevertKind::Unknown(_) => None,
        }
    }

    /// The shown value of argument `arg` of a custom error.
    pub fn arg(&self, arg: &str) -> Option<&str> {
        match &self.kind {
            RevertKind::Custom { args, .. } => {
                args.iter().find(|(n, _)| n == arg).map(|(_, v)| v.as_str())
            }
            _ => None,
        }
    }
}

impl fmt::Display for RevertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Custom {
                contract,
                name,
                args,
            } => {
                if let Some(c) = contract {
                    write!(f, "{c}::")?;
                }
                write!(f, "{name}(")?;
                for (i, (n, v)) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if n.is_empty() {
                        f.write_str(v)?;
                    } else {
                        write!(f, "{n} = {v}")?;
                    }
                }
                f.write_str(")")
            }
            Self::Message(m) => write!(f, "Error({m:?})"),
            Self::Panic(p) => write!(f, "Panic({p})"),
            Self::Empty => f.write_str("reverted without data"),
            Self::Unknown(data) => write!(f, "unknown error {data}"),
        }
    }
}

impl fmt::Display for DecodedRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// Decodes revert data without knowing which contract was called (see the module docs on labels).
pub fn decode_revert(data: &[u8]) -> DecodedRevert {
    decode(data, None)
}

/// Decodes revert data of a call to the contract named `called` (`InferenceRegistry`, ...): an error
/// that contract declares is labelled with it.
pub fn decode_revert_from(data: &[u8], called: &str) -> DecodedRevert {
    decode(data, Some(called))
}

fn decode(data: &[u8], called: Option<&str>) -> DecodedRevert {
    let custom = |kind| DecodedRevert { kind, hint: None };
    if data.is_empty() {
        return custom(RevertKind::Empty);
    }
    if let Ok(r) = Revert::abi_decode(data) {
        return custom(RevertKind::Message(r.reason));
    }
    if let Ok(p) = Panic::abi_decode(data) {
        return custom(RevertKind::Panic(p.to_string()));
    }
    let Some(selector) = data.get(..4).map(Selector::from_slice) else {
        return custom(RevertKind::Unknown(Bytes::copy_from_slice(data)));
    };
    let Some(declared) = index().errors.get(&selector) else {
        return custom(RevertKind::Unknown(Bytes::copy_from_slice(data)));
    };
    let Ok(values) = declared.error.abi_decode_input(&data[4..]) else {
        return custom(RevertKind::Unknown(Bytes::copy_from_slice(data)));
    };
    let contract = called
        .and_then(|c| declared.contracts.iter().find(|d| **d == c).copied())
        .or_else(|| {
            let implementors: Vec<&&str> = declared
                .contracts
                .iter()
                .filter(|c| !is_interface(c))
                .collect();
            match implementors.as_slice() {
                [only] => Some(**only),
                [] if declared.contracts.len() == 1 => declared.contracts.first().copied(),
                _ => None,
            }
        });
    let name = declared.error.name.clone();
    let args: Vec<(String, String)> = declared
        .error
        .inputs
        .iter()
        .zip(&values)
        .map(|(p, v)| (p.name.clone(), show(&name, p, v)))
        .collect();
    let hint = hint(&name, &values, &args);
    DecodedRevert {
        kind: RevertKind::Custom {
            contract,
            name,
            args,
        },
        hint,
    }
}

/// How a value is shown: by the parameter's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// A token amount in wei: shown in tokens.
    Tokens,
    /// A unix time in seconds: shown with its UTC date.
    Time,
    /// As the ABI type says.
    Plain,
}

/// Whether parameter `param` of error or function `item` is an amount or a time. Names decide,
/// with the exceptions the suite's errors need (`InsufficientOperators.required` is a count).
fn unit_of(item: &str, param: &str) -> Unit {
    match (item, param) {
        ("InsufficientOperators", _) | ("ModelFull", _) => Unit::Plain,
        ("SlashExceedsStake", "available") | ("CallbackFeeTooLow", "required") => Unit::Tokens,
        ("InvalidDeadline", _) | ("ProposalNotReady", "eta") => Unit::Time,
        ("GovernorInsufficientProposerVotes", "votes" | "threshold") => Unit::Plain,
        (_, "deadline" | "unlockAt" | "executableAt" | "windowEnd" | "closedAt") => Unit::Time,
        _ => {
            let p = param.to_ascii_lowercase();
            let amountish = [
                "fee",
                "stake",
                "amount",
                "assets",
                "balance",
                "needed",
                "allowance",
                "minimum",
            ];
            let item_amount = (item.contains("Stake") || item.contains("Fee")) && p == "value";
            if item_amount || amountish.iter().any(|a| p.contains(a)) {
                Unit::Tokens
            } else {
                Unit::Plain
            }
        }
    }
}

fn show(item: &str, param: &Param, value: &DynSolValue) -> String {
    match value {
        DynSolValue::Uint(v, _) => {
            if let Some(e) = enum_name(param.internal_type.as_ref().map(ToString::to_string), *v) {
                return e;
            }
            match unit_of(item, &param.name) {
                Unit::Tokens => format!("{} {SYMBOL}", format_tokens(*v)),
                Unit::Time => format_time(*v),
                Unit::Plain => v.to_string(),
            }
        }
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::FixedBytes(w, 32) => {
            short_string(w.as_slice()).unwrap_or_else(|| w.to_string())
        }
        DynSolValue::FixedBytes(w, n) => Bytes::copy_from_slice(&w[..*n]).to_string(),
        DynSolValue::Bytes(b) => Bytes::copy_from_slice(b).to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            let inner: Vec<String> = items.iter().map(|v| show(item, param, v)).collect();
            format!("[{}]", inner.join(", "))
        }
        DynSolValue::Tuple(items) => {
            let inner: Vec<String> = param
                .components
                .iter()
                .zip(items)
                .map(|(p, v)| {
                    let shown = show(item, p, v);
                    if p.name.is_empty() {
                        shown
                    } else {
                        format!("{} = {shown}", p.name)
                    }
                })
                .collect();
            format!("({})", inner.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// A bytes32 holding a short ASCII name (`minFee`, a parameter name the contracts pass to
/// `ParameterOutOfBounds`), else `None`.
pub fn bytes32_name(w: &[u8]) -> Option<String> {
    let end = w.iter().position(|b| *b == 0).unwrap_or(w.len());
    let (text, pad) = w.split_at(end);
    let printable = !text.is_empty()
        && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        && pad.iter().all(|b| *b == 0);
    printable.then(|| String::from_utf8_lossy(text).into_owned())
}

/// [`bytes32_name`], quoted for display (`"minFee"`).
fn short_string(w: &[u8]) -> Option<String> {
    bytes32_name(w).map(|n| format!("{n:?}"))
}

/// The Solidity name of an enum value, from the parameter's `internalType` (`enum X.RequestStatus`).
fn enum_name(internal: Option<String>, v: U256) -> Option<String> {
    let internal = internal?;
    let ty = internal.strip_prefix("enum ")?;
    let ty = ty.rsplit('.').next().unwrap_or(ty);
    let raw = u8::try_from(v).ok()?;
    let name = match ty {
        "RequestStatus" => RequestStatus::of(raw).map(RequestStatus::name),
        "VerificationMode" => VerificationMode::of(raw).map(VerificationMode::name),
        "CallbackState" => CallbackState::of(raw).map(CallbackState::name),
        "FaultKind" => FaultKind::of(raw).map(FaultKind::name),
        "SlashStatus" => SlashStatus::of(raw).map(SlashStatus::name),
        "Status" => DisputeStatus::of(raw).map(DisputeStatus::name),
        "VoteType" => VoteType::of(raw).map(VoteType::name),
        "ProposalState" => ProposalState::of(raw).map(ProposalState::name),
        _ => None,
    };
    Some(name.map_or_else(|| format!("{ty}({raw})"), str::to_owned))
}

/// Unix seconds with their UTC date: `1700000000 (2023-11-14 22:13:20 UTC)`.
pub fn format_time(secs: U256) -> String {
    let Ok(s) = u64::try_from(secs) else {
        return secs.to_string();
    };
    // Days to civil date (Howard Hinnant's algorithm), valid for every u64 day count we can meet.
    let days = i64::try_from(s / 86_400).unwrap_or(i64::MAX / 2);
    let rem = s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{s} ({year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC)",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

fn hint(name: &str, values: &[DynSolValue], args: &[(String, String)]) -> Option<String> {
    let tokens = |i: usize| {
        values
            .get(i)
            .and_then(DynSolValue::as_uint)
            .map(|(v, _)| format_tokens(v))
            .unwrap_or_default()
    };
    let arg = |i: usize| args.get(i).map(|(_, v)| v.as_str()).unwrap_or_default();
    let h = match name {
        "UnknownModel" => "the model is not registered on this registry: register it with `verinfer model register` (admin), or check --model".to_owned(),
        "ModelIsRetired" => "the model is retired: use a registered, active model".to_owned(),
        "ERC20InsufficientBalance" => format!(
            "the sender holds {} {SYMBOL} but needs {} {SYMBOL}: get tokens first (on a devnet or testnet, a transfer from the deployer, which holds the supply)",
            tokens(1),
            tokens(2)
        ),
        "ERC20InsufficientAllowance" => format!(
            "the spender may take {} {SYMBOL} but needs {} {SYMBOL}: approve it first (`approve` on VerinferToken)",
            tokens(1),
            tokens(2)
        ),
        "FeeOutOfRange" => format!("pass --fee between {} and {}", tokens(1), tokens(2)),
        "CallbackFeeTooLow" => format!("pass a callback fee of at least {} {SYMBOL}", tokens(1)),
        "InvalidDeadline" => format!(
            "the deadline must lie between {} and {}: pass --deadline-secs within the registry's bounds",
            arg(1),
            arg(2)
        ),
        "DeadlinePassed" => "the request's deadline has passed: it accepts no more answers".to_owned(),
        "DeadlineNotPassed" => "wait until the deadline has passed".to_owned(),
        "InsufficientOperators" => format!(
            "{} operator(s) can serve this model but it needs {}: more operators must register and `verinfer operator serve` it (jailed or under-staked ones do not count)",
            arg(1),
            arg(2)
        ),
        "InvalidSignature" => "the attestation is not signed by the operator's registered signer: the keeper's signer key must match `verinfer operator register --signer` (or a rotation)".to_owned(),
        "UnknownOperator" | "NotActiveOperator" => {
            "the address is not an active operator: register it with `verinfer operator register`".to_owned()
        }
        "AlreadyRegistered" => "this address is already registered as an operator".to_owned(),
        "NotServing" => "the operator does not serve this model: `verinfer operator serve --model ...`".to_owned(),
        "AlreadyServing" => "the operator already serves this model".to_owned(),
        "InsufficientStake" | "BelowMinimumOperatorStake" => {
            "stake more (`verinfer operator stake`) to reach the minimum".to_owned()
        }
        "OperatorIsJailed" => format!("the operator is jailed until {}", arg(1)),
        "NotAssigned" => "the operator was not drawn for this request".to_owned(),
        "AlreadyAnswered" => "this operator has already answered this request".to_owned(),
        "UnauthorizedCaller" | "AccessControlUnauthorizedAccount" => {
            "the sender lacks the role this call needs (after the hand-over, admin calls go through `verinfer gov propose`)".to_owned()
        }
        "WithdrawalLocked" => format!("the withdrawal unlocks at {}", arg(1)),
        "GovernorUnexpectedProposalState" => {
            let bits = values
                .get(2)
                .and_then(DynSolValue::as_fixed_bytes)
                .map(|(b, _)| U256::from_be_slice(b))
                .unwrap_or_default();
            let wanted: Vec<&str> = ProposalState::ALL
                .iter()
                .filter(|p| bits.bit(usize::from(u8::from(**p))))
                .map(|p| p.name())
                .collect();
            format!(
                "proposal {} is {}, but this needs it to be {}",
                arg(0),
                arg(1),
                if wanted.is_empty() {
                    "in another state".to_owned()
                } else {
                    wanted.join(" or ")
                }
            )
        }
        "GovernorNonexistentProposal" => {
            format!("proposal {} does not exist on this governor", arg(0))
        }
        "GovernorAlreadyCastVote" => format!("{} has already voted on this proposal", arg(0)),
        "GovernorAlreadyQueuedProposal" => format!("proposal {} is already queued", arg(0)),
        "GovernorNotQueuedProposal" => format!(
            "proposal {} is not queued (run `verinfer gov queue` first)",
            arg(0)
        ),
        "GovernorInsufficientProposerVotes" => format!(
            "{} has {} voice, the proposal threshold is {}",
            arg(0),
            arg(1),
            arg(2)
        ),
        "GovernorRestrictedProposer" => format!(
            "the description restricts who may propose; {} may not",
            arg(0)
        ),
        "GovernorInvalidProposalLength" => format!(
            "targets ({}), calldatas ({}) and values ({}) differ in length, or are empty",
            arg(0),
            arg(1),
            arg(2)
        ),
        "TooManyActions" => format!(
            "the proposal has {} actions; at most {} are allowed",
            arg(0),
            arg(1)
        ),
        "VotingClosed" if args.first().is_some_and(|(n, _)| n == "proposalId") => format!(
            "voting on proposal {} is not open: it is {}",
            arg(0),
            arg(1)
        ),
        "ProposalNotReady" => format!(
            "proposal {} is queued but its timelock ends at {}",
            arg(0),
            arg(1)
        ),
        _ => return None,
    };
    Some(h)
}

/// Describes calldata for humans as `Contract.function(arg = value, ...)`, decoded with the ABI of
/// `contract` (a contract or interface of the bindings); `None` when that contract has no function
/// with the data's selector or the arguments do not decode.
///
/// ```
/// use alloy::primitives::U256;
/// use alloy::sol_types::SolCall;
/// use verinfer_bindings::decode::describe_call;
/// use verinfer_bindings::{units::tokens, Staking};
///
/// let data = Staking::setMinOperatorStakeCall { value: tokens(2_500) }.abi_encode();
/// assert_eq!(
///     describe_call("Staking", &data).unwrap(),
///     "Staking.setMinOperatorStake(value = 2500 VINF)"
/// );
/// ```
pub fn describe_call(contract: &str, data: &[u8]) -> Option<String> {
    let selector = Selector::from_slice(data.get(..4)?);
    let (name, f) = index()
        .functions
        .iter()
        .find(|((c, s), _)| *c == contract && *s == selector)
        .map(|((c, _), f)| (*c, f))?;
    let values = f.abi_decode_input(&data[4..]).ok()?;
    let args: Vec<String> = f
        .inputs
        .iter()
        .zip(&values)
        .map(|(p, v)| {
            let shown = show(&f.name, p, v);
            if p.name.is_empty() {
                shown
            } else {
                format!("{} = {shown}", p.name)
            }
        })
        .collect();
    Some(format!("{name}.{}({})", f.name, args.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{tokens, TOKEN};
    use crate::InferenceRegistry as R;
    use alloy::primitives::{Address, B256, U160};
    use alloy::sol_types::SolCall;

    #[test]
    fn every_committed_artifact_parses_and_every_error_is_indexed() {
        for (name, text) in crate::ARTIFACTS {
            let abi = parse_artifact(text).unwrap_or_else(|| panic!("{name} parses"));
            for e in abi.errors() {
                let d = &index().errors[&e.selector()];
                assert!(d.contracts.contains(name), "{name}.{} indexed", e.name);
            }
        }
    }

    fn a(n: u64) -> Address {
        Address::from(U160::from(n))
    }

    /// The table: encoded error, the name the decoder must show, argument values it must show, and
    /// a fragment its hint must contain.
    #[test]
    fn decoder_names_each_error_with_its_arguments_and_a_hint() {
        let model = B256::repeat_byte(0xab);
        /// Encoded error, shown name, shown arguments, hint fragment ("" = no hint).
        type Case = (
            Vec<u8>,
            &'static str,
            Vec<(&'static str, String)>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                R::UnknownModel { modelId: model }.abi_encode(),
                "InferenceRegistry::UnknownModel",
                vec![("modelId", model.to_string())],
                "verinfer model register",
            ),
            (
                crate::VerinferToken::ERC20InsufficientBalance {
                    sender: a(7),
                    balance: U256::ZERO,
                    needed: tokens(1_000),
                }
                .abi_encode(),
                "VerinferToken::ERC20InsufficientBalance",
                vec![
                    ("sender", a(7).to_checksum(None)),
                    ("balance", "0 VINF".into()),
                    ("needed", "1000 VINF".into()),
                ],
                "get tokens",
            ),
            (
                crate::VerinferToken::ERC20InsufficientAllowance {
                    spender: a(8),
                    allowance: U256::from(TOKEN / 2),
                    needed: tokens(1),
                }
                .abi_encode(),
                "VerinferToken::ERC20InsufficientAllowance",
                vec![
                    ("allowance", "0.5 VINF".into()),
                    ("needed", "1 VINF".into()),
                ],
                "approve",
            ),
            (
                R::FeeOutOfRange {
                    fee: U256::ZERO,
                    minFee: U256::from(TOKEN / 100),
                    maxFee: tokens(1_000_000),
                }
                .abi_encode(),
                "InferenceRegistry::FeeOutOfRange",
                vec![
                    ("fee", "0 VINF".into()),
                    ("minFee", "0.01 VINF".into()),
                    ("maxFee", "1000000 VINF".into()),
                ],
                "pass --fee between 0.01 and 1000000",
            ),
            (
                R::InvalidDeadline {
                    deadline: U256::from(1_700_000_000u64),
                    min: U256::from(1_700_000_060u64),
                    max: U256::from(1_700_086_400u64),
                }
                .abi_encode(),
                "InferenceRegistry::InvalidDeadline",
                vec![
                    ("deadline", "1700000000 (2023-11-14 22:13:20 UTC)".into()),
                    ("min", "1700000060 (2023-11-14 22:14:20 UTC)".into()),
                ],
                "--deadline-secs",
            ),
            (
                R::DeadlinePassed {
                    requestId: U256::from(5),
                    deadline: alloy::primitives::Uint::from(86_400u64),
                }
                .abi_encode(),
                "InferenceRegistry::DeadlinePassed",
                vec![
                    ("requestId", "5".into()),
                    ("deadline", "86400 (1970-01-02 00:00:00 UTC)".into()),
                ],
                "deadline has passed",
            ),
            (
                R::InsufficientOperators {
                    modelId: model,
                    available: U256::from(2),
                    required: U256::from(3),
                }
                .abi_encode(),
                "InferenceRegistry::InsufficientOperators",
                vec![("available", "2".into()), ("required", "3".into())],
                "verinfer operator serve",
            ),
            (
                R::InvalidSignature { operator: a(9) }.abi_encode(),
                "InferenceRegistry::InvalidSignature",
                vec![("operator", a(9).to_checksum(None))],
                "signer",
            ),
            (
                crate::Staking::UnknownOperator { operator: a(3) }.abi_encode(),
                "Staking::UnknownOperator",
                vec![("operator", a(3).to_checksum(None))],
                "verinfer operator register",
            ),
            (
                R::NotActiveOperator { operator: a(4) }.abi_encode(),
                "InferenceRegistry::NotActiveOperator",
                vec![("operator", a(4).to_checksum(None))],
                "verinfer operator register",
            ),
            (
                R::NotServing {
                    modelId: model,
                    operator: a(4),
                }
                .abi_encode(),
                "InferenceRegistry::NotServing",
                vec![("operator", a(4).to_checksum(None))],
                "operator serve",
            ),
            (
                R::NotAcceptingAnswers {
                    requestId: U256::from(3),
                    status: 4,
                }
                .abi_encode(),
                "InferenceRegistry::NotAcceptingAnswers",
                vec![(
                    "status",
                    RequestStatus::of(4).map(|s| s.name()).unwrap_or("?").into(),
                )],
                "",
            ),
            (
                crate::Staking::ParameterOutOfBounds {
                    name: B256::right_padding_from(b"minOperatorStake"),
                    value: U256::ZERO,
                    min: U256::from(1),
                    max: U256::from(2),
                }
                .abi_encode(),
                "ParameterOutOfBounds",
                vec![("name", "\"minOperatorStake\"".into())],
                "",
            ),
        ];
        for (data, name, args, hint) in cases {
            let d = decode_revert(&data);
            let shown = d.to_string();
            assert!(shown.starts_with(&format!("{name}(")), "{name}: {shown}");
            for (arg, value) in args {
                assert_eq!(d.arg(arg), Some(value.as_str()), "{name}.{arg}: {shown}");
                assert!(shown.contains(&format!("{arg} = {value}")), "{shown}");
            }
            match d.hint.as_deref() {
                Some(h) => assert!(h.contains(hint), "{name} hint: {h}"),
                None => assert!(hint.is_empty(), "{name} has no hint: {shown}"),
            }
        }
    }

    /// Regression: `sim fork` labelled a registry revert `Staking::` because the decoder tried the
    /// Staking ABI first and Staking declares the same `UnauthorizedCaller(address)`.
    #[test]
    fn an_error_several_contracts_declare_is_labelled_only_with_the_called_one() {
        let data = R::UnauthorizedCaller { caller: a(1) }.abi_encode();
        let unlabelled = decode_revert(&data);
        assert!(
            unlabelled.to_string().starts_with("UnauthorizedCaller("),
            "{unlabelled}"
        );
        let from_registry = decode_revert_from(&data, "InferenceRegistry");
        assert!(
            from_registry
                .to_string()
                .starts_with("InferenceRegistry::UnauthorizedCaller("),
            "{from_registry}"
        );
        // Staking and IStaking declare AlreadyRegistered: the contract, not the interface, is named.
        let data = crate::Staking::AlreadyRegistered { operator: a(1) }.abi_encode();
        assert!(decode_revert(&data).to_string().starts_with("Staking::"));
        // A called contract that does not declare the error does not claim it.
        let data = R::FeeOutOfRange {
            fee: U256::ZERO,
            minFee: U256::ZERO,
            maxFee: U256::ZERO,
        }
        .abi_encode();
        assert!(decode_revert_from(&data, "Staking")
            .to_string()
            .starts_with("InferenceRegistry::FeeOutOfRange("));
    }

    #[test]
    fn strings_panics_empty_and_unknown_data_are_named() {
        let msg = Revert::from("no").abi_encode();
        assert_eq!(decode_revert(&msg).to_string(), "Error(\"no\")");
        let panic = Panic::from(0x11u64).abi_encode();
        assert!(decode_revert(&panic).to_string().contains("overflow"));
        assert_eq!(decode_revert(&[]).to_string(), "reverted without data");
        assert_eq!(
            decode_revert(&[0xde, 0xad, 0xbe, 0xef]).to_string(),
            "unknown error 0xdeadbeef"
        );
    }

    #[test]
    fn calls_are_described_with_named_arguments_in_units() {
        let data = crate::InferenceRegistry::requestInferenceCall {
            modelId: B256::ZERO,
            inputHash: B256::ZERO,
            inputURI: "0x00".into(),
            fee: U256::from(TOKEN / 100),
            deadline: alloy::primitives::Uint::from(60u64),
        }
        .abi_encode();
        let d = describe_call("InferenceRegistry", &data).unwrap();
        assert!(
            d.starts_with("InferenceRegistry.requestInference(modelId = ")
                && d.contains("fee = 0.01 VINF")
                && d.contains("deadline = 60 (1970-01-01 00:01:00 UTC)"),
            "{d}"
        );
        assert_eq!(describe_call("Staking", &data), None, "not a Staking call");
        assert_eq!(describe_call("InferenceRegistry", &[1, 2]), None);
    }
}
