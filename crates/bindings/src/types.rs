//! Solidity enums as Rust enums. The ABI erases an enum to `uint8` (a `RequestView::status` is a plain
//! `u8` in the generated bindings), so every crate reads and writes those values through these types,
//! never through bare numbers. The discriminants follow the Solidity declaration order; a unit test
//! parses the contracts and fails when an enum is reordered or extended.
//!
//! ```
//! use verinfer_bindings::types::{FaultKind, RequestStatus};
//!
//! assert_eq!(RequestStatus::of(2), Some(RequestStatus::Quorum));
//! assert_eq!(RequestStatus::of(9), None);
//! assert_eq!(u8::from(FaultKind::MissedAssignment), 2);
//! assert_eq!(FaultKind::WrongResult.to_string(), "WrongResult");
//! ```

/// Declares a Rust mirror of a Solidity enum: discriminants in declaration order, `ALL`, `of(u8)`,
/// `u8::from`, `Display` (the Solidity variant name) and the Solidity source it mirrors.
macro_rules! abi_enum {
    (
        $(#[$meta:meta])*
        $name:ident = $source:literal, $sol_name:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The Solidity file declaring the enum, relative to the repository root.
            pub const SOURCE: &'static str = $source;
            /// The enum's name in that file.
            pub const SOLIDITY_NAME: &'static str = $sol_name;

            /// The variant with ABI value `raw`; `None` for a value the contract does not define.
            pub fn of(raw: u8) -> Option<Self> {
                Self::ALL.get(usize::from(raw)).copied()
            }

            /// The Solidity variant name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant)),+
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v as u8
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

abi_enum! {
    /// `IInferenceRegistry.RequestStatus`: the lifecycle of a request.
    RequestStatus = "contracts/interfaces/IInferenceRegistry.sol", "RequestStatus" {
        /// No such request.
        None = 0,
        /// Accepting answers, no quorum yet.
        Open = 1,
        /// Quorum reached; challenge window running.
        Quorum = 2,
        /// A dispute is open.
        Disputed = 3,
        /// Result recorded; immutable.
        Finalized = 4,
        /// No result before the deadline; fee refunded.
        Expired = 5,
    }
}

abi_enum! {
    /// `IInferenceRegistry.VerificationMode`: how a model's results are verified.
    VerificationMode = "contracts/interfaces/IInferenceRegistry.sol", "VerificationMode" {
        /// k operators run the model; q of them must agree.
        Deterministic = 0,
        /// One executor; its answer stands unless challenged.
        Optimistic = 1,
    }
}

abi_enum! {
    /// `IInferenceRegistry.CallbackState`: where a request's final consumer callback stands.
    CallbackState = "contracts/interfaces/IInferenceRegistry.sol", "CallbackState" {
        /// The request names no consumer.
        None = 0,
        /// Not yet delivered.
        Pending = 1,
        /// The consumer's final callback returned successfully.
        Delivered = 2,
        /// The final callback reverted, ran out of gas or hit a consumer without code; retryable by the consumer.
        Failed = 3,
    }
}

abi_enum! {
    /// `ScriptedConsumer.Behaviour`: what the devnet's scripted consumer does when called back.
    ScriptedBehaviour = "contracts/examples/ScriptedConsumer.sol", "Behaviour" {
        /// Store the output hash and count the call.
        Record = 0,
        /// Revert with a 100,000-byte reason.
        Revert = 1,
        /// Loop until out of gas.
        BurnGas = 2,
        /// Return a 200,000-byte buffer.
        ReturnBomb = 3,
    }
}

abi_enum! {
    /// `ISlasher.FaultKind`: what a slash punishes.
    FaultKind = "contracts/interfaces/ISlasher.sol", "FaultKind" {
        /// Two conflicting attestations for one request (immediate).
        Equivocation = 0,
        /// A result overturned by a dispute (vetoable before execution).
        WrongResult = 1,
        /// An assigned request left unanswered (immediate, small).
        MissedAssignment = 2,
    }
}

abi_enum! {
    /// `ISlasher.SlashStatus`: where a slash request stands.
    SlashStatus = "contracts/interfaces/ISlasher.sol", "SlashStatus" {
        /// No such slash.
        None = 0,
        /// Requested, not executed yet (vetoable before `executableAt`).
        Pending = 1,
        /// Paid in full, or the last installment took all the operator's stake.
        Executed = 2,
        /// Cancelled by governance inside the veto window.
        Vetoed = 3,
        /// Executed (operator jailed); a remainder is owed until the cap has room.
        PartiallyExecuted = 4,
    }
}

abi_enum! {
    /// `DisputeGovernor.Status`: where a dispute stands.
    DisputeStatus = "contracts/governance/DisputeGovernor.sol", "Status" {
        /// No such dispute.
        None = 0,
        /// The vote is open.
        Voting = 1,
        /// Voting ended; the ruling waits for its delay.
        Ruled = 2,
        /// The ruling was applied to the registry.
        Executed = 3,
    }
}

abi_enum! {
    /// `GovernorQuadraticCounting.VoteType`: `castVote`'s `support` on `VerinferGovernor`.
    VoteType = "contracts/governance/extensions/GovernorQuadraticCounting.sol", "VoteType" {
        /// Against the proposal.
        Against = 0,
        /// For the proposal.
        For = 1,
        /// Counts towards quorum only.
        Abstain = 2,
    }
}

abi_enum! {
    /// OpenZeppelin `IGovernor.ProposalState`.
    ProposalState = "node_modules/@openzeppelin/contracts/governance/IGovernor.sol", "ProposalState" {
        /// Before the voting delay ends.
        Pending = 0,
        /// Voting.
        Active = 1,
        /// Cancelled by the proposer (or a guardian).
        Canceled = 2,
        /// Voting ended without passing.
        Defeated = 3,
        /// Passed; may be queued.
        Succeeded = 4,
        /// Queued in the timelock.
        Queued = 5,
        /// Not executed in time.
        Expired = 6,
        /// Executed.
        Executed = 7,
    }
}

abi_enum! {
    /// `Referee.Phase`: where a referee game is (docs/referee.md).
    GamePhase = "contracts/referee/Referee.sol", "Phase" {
        /// No such game.
        None = 0,
        /// Both sides commit their trace roots.
        Commit = 1,
        /// The descent to the first differing leaf, two moves per level.
        Bisect = 2,
        /// The one-step check of the first differing element is due.
        Step = 3,
        /// Ended; the ruling went to the registry.
        Done = 4,
    }
}

abi_enum! {
    /// `Referee.Outcome`: how a referee game ended.
    GameOutcome = "contracts/referee/Referee.sol", "Outcome" {
        /// Not ended.
        None = 0,
        /// The defender (side 0, the registry's leading output) won.
        DefenderWon = 1,
        /// The challenger (side 1) won.
        ChallengerWon = 2,
        /// Neither side committed: no decision, the status quo stands.
        NoCommitment = 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant names of `enum <name> { ... }` in `source` (repository-relative), comments stripped.
    fn solidity_enum(source: &str, name: &str) -> Vec<String> {
        let path = format!("{}/../../{source}", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = src
            .find(&format!("enum {name} {{"))
            .unwrap_or_else(|| panic!("no enum {name} in {path}"));
        let body = &src[start..];
        let open = body.find('{').unwrap() + 1;
        let body = &body[open..body.find('}').unwrap()];
        body.lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .flat_map(|l| l.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn names<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
        all.iter().map(ToString::to_string).collect()
    }

    /// The ABI erases enums to `uint8`, so the discriminants must follow each contract's declaration
    /// order; a reordered or extended Solidity enum fails here.
    #[test]
    fn every_enum_follows_its_solidity_declaration_order() {
        macro_rules! check {
            ($($t:ty),+) => {$(
                assert_eq!(
                    names(<$t>::ALL),
                    solidity_enum(<$t>::SOURCE, <$t>::SOLIDITY_NAME),
                    "{}",
                    stringify!($t)
                );
                for (i, v) in <$t>::ALL.iter().enumerate() {
                    assert_eq!(usize::from(u8::from(*v)), i);
                    assert_eq!(<$t>::of(u8::from(*v)), Some(*v));
                }
                assert_eq!(<$t>::of(<$t>::ALL.len() as u8), None);
            )+};
        }
        check!(
            RequestStatus,
            VerificationMode,
            CallbackState,
            ScriptedBehaviour,
            FaultKind,
            SlashStatus,
            DisputeStatus,
            VoteType,
            ProposalState,
            GamePhase,
            GameOutcome
        );
    }
}
