//! Durable keeper state in an embedded redb database: the intent journal, and the helper records
//! the duties keep beside it, each kind in its own typed table (the log cursor, recent block hashes
//! for reorg detection, the nonce index, request facts, finalize and deadline schedules, callbacks
//! and deliveries, referee games, jury rounds).
//!
//! Every on-chain action is first recorded as an [`Intent`] under a deterministic key (for example
//! `attest:<requestId>:<operator>`) *before* anything is broadcast, and its signed raw transaction is
//! recorded before it is sent. After a crash the keeper reconciles pending intents with the chain
//! (already recorded on chain -> done; otherwise rebroadcast the same signed transaction at the same
//! nonce), so a `kill -9` at any point neither duplicates nor loses work.
//!
//! Journal records hold typed values ([`Address`], [`TxHash`], [`Bytes`], [`U256`]); their on-disk
//! format is versioned ([`JOURNAL_VERSION`], kept in the metadata table). [`Store::open`] migrates a
//! journal written by an earlier format in one durable write (version 5: batch members a crash may
//! have stranded, settled on opening; version 4: that, and no time-ordered schedule indexes;
//! version 3: no open-intent index either; version 2: helper records as string-prefixed
//! entries of the metadata table; version 1: that, and intents with hex and decimal strings), and
//! refuses any other version with [`StoreError::UnsupportedJournalVersion`].

use std::path::Path;

use alloy::primitives::{Address, Bytes, TxHash, B256, U256};
use redb::{Database, Key, ReadableTable, ReadableTableMetadata, TableDefinition, Value};
use serde::{Deserialize, Serialize};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const INTENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("intents");
/// The keys of the intents that still need work ([`Intent::is_open`]), written in the same write as
/// the intent: what every dispatch round reads, so a round costs the open work, not the journal's
/// whole history (done intents stay in the journal).
const OPEN: TableDefinition<&str, ()> = TableDefinition::new("open_intents");
/// Output bytes by their keccak256 (the `outputHash` attested on chain), served to clients.
const OUTPUTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("outputs");
/// Which intent signed a transaction at each sender nonce (the nonce index): written with the
/// intent's `Sent` status, read by the transaction manager to find nonce gaps after a reorg.
const NONCES: TableDefinition<u64, &str> = TableDefinition::new("nonces");
/// Where our transaction at each sender nonce was mined, as its receipt said ([`Inclusion`]): nonce
/// -> `tx hash ‖ block number ‖ block hash` (32 + 8 + 32 bytes, big-endian number). Written with the
/// outcome read from the receipt, read by the nonce repair to tell a node that cannot show that
/// block yet (lagging) from one whose chain no longer has it (a reorg); pruned with the nonce index.
/// Journals written before it have no entries (the repair then falls back to the recorded blocks).
const INCLUDED: TableDefinition<u64, &[u8; 72]> = TableDefinition::new("included");
/// Every attestation this keeper signed and published, keyed by `requestId ‖ outputHash` (64 bytes,
/// big-endian id first, so one request's are adjacent), JSON values: what its peers fetch from
/// `GET /v1/attestations/<requestId>` to catch equivocation across processes.
const PUBLISHED: TableDefinition<&[u8; 64], &[u8]> = TableDefinition::new("published");
/// The log cursor: one row (key `()`), `block ‖ hash` (8 + 32 bytes, big-endian block).
const CURSOR: TableDefinition<(), &[u8; 40]> = TableDefinition::new("cursor");
/// What the keeper read of each request from its `RequestCreated` log ([`RequestFacts`], JSON), by
/// request id (32 bytes, big-endian).
const REQUESTS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("requests");
/// Requests to finalize once their veto window ends (`QuorumReached`): request id -> window end
/// (chain time, seconds).
const FINALIZE_DUE: TableDefinition<&[u8; 32], u64> = TableDefinition::new("finalize_due");
/// Requests whose answer deadline the finalizer watches: request id -> deadline (chain time).
const DEADLINES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("deadlines");
/// [`FINALIZE_DUE`] in time order: `(window end, request id)`, kept in the same writes, so the
/// finalizer reads only the finalizations due ([`Store::finalizations_due`]), not every one
/// scheduled (a challenge window of a day at production volume schedules millions).
const FINALIZE_AT: TableDefinition<(u64, &[u8; 32]), ()> = TableDefinition::new("finalize_at");
/// [`DEADLINES`] in time order: `(deadline, request id)` ([`Store::deadlines_passed`]).
const DEADLINES_AT: TableDefinition<(u64, &[u8; 32]), ()> = TableDefinition::new("deadlines_at");
/// Requests that call a consumer back (`CallbackRegistered`): request id -> early opt-in.
const CALLBACKS: TableDefinition<&[u8; 32], bool> = TableDefinition::new("callbacks");
/// Callback deliveries scheduled: `stage ‖ request id` (1 + 32 bytes) -> due (unix seconds).
const DELIVERIES: TableDefinition<&[u8; 33], u64> = TableDefinition::new("deliveries");
/// The referee games this keeper plays: game id -> `request id ‖ side` (32 + 1 bytes).
const GAMES: TableDefinition<&[u8; 32], &[u8; 33]> = TableDefinition::new("games");
/// Jury disputes the jury duty watches (draw and settle): dispute id -> [`JuryWatch`] (JSON).
const JURY: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("jury");
/// The most published attestations served for one request.
pub const MAX_PUBLISHED_PER_REQUEST: usize = 16;
/// The on-disk format of journal records this build writes: 6 = every helper record in its own
/// typed table, the open intents indexed ([`Store::open_intents`]), the finalizer's schedules
/// indexed by time ([`Store::finalizations_due`], [`Store::deadlines_passed`]), and no batch member
/// left pointing at a batch that has ended (a batch's end and its members' are one write since
/// version 6; a journal of an earlier version has its stranded members settled on opening,
/// [`Store::settle_stranded_members`]). Version 5 had the same records, with members possibly
/// stranded by a crash; version 4 no schedule index; version 3 no open index either;
/// version 2 kept them as string-prefixed entries of the metadata table (`cursor`,
/// `req:<id>`, `fin:<id>`, `dl:<id>`, `cb:<id>`, `dv:<stage>:<id>`, `rg:<game>`); version 1 (no
/// version key) did too, and held intents' addresses, hashes, bytes and ids as hex and decimal
/// strings.
pub const JOURNAL_VERSION: u32 = 6;
/// Metadata key of the journal's format version (4 bytes, big-endian).
const VERSION_KEY: &str = "journal_version";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("keeper database error: {0}")]
    Db(#[source] Box<redb::Error>),
    /// A record could not be (de)serialized.
    #[error("corrupt keeper record {key}: {reason}")]
    Corrupt {
        /// Record key.
        key: String,
        /// Reason.
        reason: String,
    },
    /// The journal was written in a format this build neither reads nor migrates (a newer keeper's).
    #[error("keeper journal format version {found} is not supported (this build reads version {supported} and migrates every earlier version, from 1)")]
    UnsupportedJournalVersion {
        /// The version found in the database.
        found: u32,
        /// The version this build writes.
        supported: u32,
    },
    /// The disk is full: a write was refused and nothing of it was stored. The keeper stops; free
    /// space and restart it (the journal is as it was before the refused write).
    #[error("keeper database: disk full ({0})")]
    DiskFull(String),
}

/// A database error: [`StoreError::DiskFull`] when the disk refused a write (`ENOSPC`, i.e.
/// [`std::io::ErrorKind::StorageFull`]), else [`StoreError::Db`].
fn dberr<E: Into<redb::Error>>(e: E) -> StoreError {
    match e.into() {
        redb::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            StoreError::DiskFull(io.to_string())
        }
        e => StoreError::Db(Box::new(e)),
    }
}

/// A file system error on `path`: [`StoreError::DiskFull`] for `ENOSPC`.
fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        StoreError::DiskFull(format!("{}: {e}", path.display()))
    } else {
        StoreError::Db(Box::new(redb::Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))))
    }
}

/// Where log processing has got to: every log up to and including `block` has been handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Last fully processed block.
    pub block: u64,
    /// Its hash, to detect a reorg below the cursor.
    pub hash: [u8; 32],
}

/// What the keeper read of a request from its `RequestCreated` log (the `requests` table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The model asked for.
    pub model_id: B256,
    /// keccak256 of the input.
    pub input_hash: B256,
    /// Where the input is (inline `0x..`, `file://`, `http(s)://`).
    pub input_uri: String,
    /// The answer deadline (chain time, seconds).
    pub deadline: u64,
}

/// A signed attestation this keeper published (the `published` table): its JSON form, keyed by
/// request id and output hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRow {
    /// The request attested.
    pub request_id: U256,
    /// The output hash attested.
    pub output_hash: B256,
    /// The signed attestation, as JSON.
    pub json: Vec<u8>,
}

impl PublishedRow {
    /// Its key: `request id ‖ output hash`, so one request's rows are one range.
    fn key(&self) -> [u8; 64] {
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&self.request_id.to_be_bytes::<32>());
        key[32..].copy_from_slice(self.output_hash.as_slice());
        key
    }
}

/// One change to the per-request schedules: the finalizations due (`finalize_due`) and the answer
/// deadlines watched (`deadlines`), applied in order by [`Store::change_schedules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleChange {
    /// Finalize request `id` once chain time passes `window_end` (its quorum was reached).
    Finalize {
        /// The request.
        id: U256,
        /// The end of its challenge window (chain time).
        window_end: u64,
    },
    /// Drop the scheduled finalization of a request (finalized, expired, disputed or journaled).
    ForgetFinalize(U256),
    /// Stop watching a request's answer deadline (it finalized, or the finalizer acted on it).
    ForgetDeadline(U256),
}

/// Which callback a scheduled delivery makes (the `deliveries` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStage {
    /// The provisional callback at quorum (opt-in).
    Early,
    /// The final callback (Finalized or Expired).
    Final,
}

impl DeliveryStage {
    /// Short stable name (journal keys, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Early => "early",
            Self::Final => "final",
        }
    }

    fn byte(self) -> u8 {
        match self {
            Self::Early => 0,
            Self::Final => 1,
        }
    }
}

/// A referee game this keeper plays (the `games` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GameRecord {
    /// The request the game is about.
    pub request: U256,
    /// The side this keeper plays: 0 the defended output, 1 the other.
    pub side: u8,
}

/// A drafted-jury dispute the jury duty watches (the `jury` table): it draws each round that awaits
/// its draw and settles the jury once the ruling is executed, then forgets the dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JuryWatch {
    /// The request the dispute is about.
    pub request: U256,
    /// The dispute governor (the jury's contract) it was opened on.
    pub governor: Address,
}

/// The kinds of on-chain action a keeper takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    /// Submit our attestation (single or as part of a batch call).
    Attest,
    /// Commit a Merkle root of results.
    CommitBatch,
    /// Finalize a request.
    Finalize,
    /// Report a missed assignment.
    ReportMissed,
    /// Report an equivocation.
    Equivocation,
    /// Challenge a wrong result.
    Challenge,
    /// Publish the bytes of a result on chain (`deliverOutput`), answering an availability challenge.
    DeliverOutput,
    /// A move in an on-chain referee game (`commitTrace`, `bisect`, `step`, `timeout`; the keeper's
    /// referee duty, docs/referee.md). Keyed per game, move and side, so a restarted keeper neither
    /// repeats nor skips a move.
    RefereeMove,
    /// Draw the jurors of a drafted dispute's round (`DisputeJury.draw`; the jury duty). Keyed per
    /// dispute and round.
    JuryDraw,
    /// Settle a drafted dispute's jury once its ruling is executed (`DisputeJury.settleJury`; the jury
    /// duty). Keyed per dispute.
    JurySettle,
    /// Any other one-off call (CLI, deployment).
    Call,
}

impl IntentKind {
    /// Short stable name used in keys and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attest => "attest",
            Self::CommitBatch => "commit_batch",
            Self::Finalize => "finalize",
            Self::ReportMissed => "report_missed",
            Self::Equivocation => "equivocation",
            Self::Challenge => "challenge",
            Self::DeliverOutput => "deliver_output",
            Self::RefereeMove => "referee_move",
            Self::JuryDraw => "jury_draw",
            Self::JurySettle => "jury_settle",
            Self::Call => "call",
        }
    }
}

/// The progress of an intent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IntentStatus {
    /// Recorded, not yet signed into a transaction.
    Pending,
    /// A signed transaction exists (and may have been broadcast).
    Sent {
        /// Sender nonce.
        nonce: u64,
        /// Hash of the latest signed transaction (replacements overwrite it).
        tx_hash: TxHash,
        /// The latest signed raw transaction (EIP-2718 encoding), for rebroadcast.
        raw: Bytes,
        /// Every transaction hash signed for this intent (a replaced one may still be mined).
        all_hashes: Vec<TxHash>,
    },
    /// Included (or found already done on chain).
    Done {
        /// Transaction that did it, if ours.
        tx_hash: Option<TxHash>,
        /// Gas used by it, if known.
        gas_used: Option<u64>,
    },
    /// Carried by the batch intent `batch` (an attestation inside a `submitAttestations` call).
    Batched {
        /// Key of the batch intent.
        batch: String,
    },
    /// Given up (e.g. the action reverted because it is no longer possible).
    Abandoned {
        /// Why.
        reason: String,
    },
}

/// A recorded action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// Deterministic key, `<kind>:<id>:<subject>`.
    pub key: String,
    /// What it does.
    pub kind: IntentKind,
    /// The request it is about (a referee move: its game's request); `None` for a batch (its
    /// members say which) and a one-off call.
    pub subject: Option<U256>,
    /// Call target; `None` creates a contract.
    pub to: Option<Address>,
    /// Calldata (init code for a creation).
    pub calldata: Bytes,
    /// Where it is.
    pub status: IntentStatus,
    /// Batch members (keys) when this intent carries several attestations.
    pub members: Vec<String>,
    /// Never put this intent into a batch again (a batch carrying it failed).
    pub single_only: bool,
}

impl Intent {
    /// The deterministic key of an intent.
    pub fn key_for(kind: IntentKind, id: &str, who: &str) -> String {
        format!("{}:{}:{}", kind.as_str(), id, who.to_ascii_lowercase())
    }

    /// Whether the intent still needs work.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            IntentStatus::Pending | IntentStatus::Sent { .. }
        )
    }

    /// Whether the batch keyed `batch` carries this intent ([`IntentStatus::Batched`] by it): its
    /// fate is that batch's.
    pub fn carried_by(&self, batch: &str) -> bool {
        matches!(&self.status, IntentStatus::Batched { batch: b } if b == batch)
    }

    /// Whether this intent is done by the transaction `hash`.
    pub fn done_by(&self, hash: TxHash) -> bool {
        matches!(self.status, IntentStatus::Done { tx_hash: Some(h), .. } if h == hash)
    }

    /// This intent handed back from a batch that will not carry it: pending, to be sent alone
    /// from now on (`single_only`).
    pub fn alone(self) -> Self {
        Self {
            status: IntentStatus::Pending,
            single_only: true,
            ..self
        }
    }
}

/// A switch that makes a journal's disk refuse writes as a full disk does: with it on, every write,
/// growth and sync of the database file fails with the OS's `ENOSPC` error (kind
/// [`std::io::ErrorKind::StorageFull`]), so the keeper meets exactly the error a full disk gives it.
/// For fault tests ([`Store::open_with_disk_fault`]); a keeper opened with [`Store::open`] has none.
#[derive(Clone, Debug, Default)]
pub struct DiskFault(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl DiskFault {
    /// Fills (`true`) or frees (`false`) the disk.
    pub fn set_full(&self, full: bool) {
        self.0.store(full, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> std::io::Result<()> {
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            // ENOSPC: what write(2) returns on a full disk.
            Err(std::io::Error::from_raw_os_error(28))
        } else {
            Ok(())
        }
    }
}

/// The database file behind a [`DiskFault`] switch.
#[derive(Debug)]
struct FaultyFile {
    file: redb::backends::FileBackend,
    fault: DiskFault,
}

impl redb::StorageBackend for FaultyFile {
    fn len(&self) -> std::io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        self.file.read(offset, len)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        if len > self.file.len()? {
            self.fault.check()?;
        }
        self.file.set_len(len)
    }

    fn sync_data(&self, eventual: bool) -> std::io::Result<()> {
        self.fault.check()?;
        self.file.sync_data(eventual)
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.fault.check()?;
        self.file.write(offset, data)
    }
}

/// Runs `f`, which may block on the disk (a durable commit's flush, the wait for the single
/// writer), without holding up the other tasks of a multi-threaded tokio runtime: the worker's
/// queued tasks (answer jobs, the signing store's connection and batching tasks, RPC connections)
/// move to another thread meanwhile (`block_in_place`). The calling task itself waits, and with it
/// whatever else it runs concurrently: the keeper's collect and execute stages share one task.
/// Elsewhere (a current-thread runtime, no runtime) `f` runs as is.
fn off_the_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Commits `txn` ([`off_the_runtime`]: a durable commit flushes to disk).
fn commit(txn: redb::WriteTransaction) -> Result<(), StoreError> {
    off_the_runtime(|| txn.commit().map_err(dberr))
}

/// The keeper database.
pub struct Store {
    db: Database,
    /// Write transactions begun since the database was opened ([`Store::write_transactions`]).
    writes: std::sync::atomic::AtomicU64,
    /// Durable write transactions begun ([`Store::durable_writes`]).
    durable: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::create_dir(path)?;
        Self::init(Database::create(path).map_err(dberr)?)
    }

    /// Opens the database at `path` like [`Store::open`], its file behind `fault`: while the switch
    /// is on, writes fail as on a full disk (fault tests).
    pub fn open_with_disk_fault(path: &Path, fault: DiskFault) -> Result<Self, StoreError> {
        Self::create_dir(path)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_err(path, e))?;
        let file = redb::backends::FileBackend::new(file).map_err(dberr)?;
        let db = redb::Builder::new()
            .create_with_backend(FaultyFile { file, fault })
            .map_err(dberr)?;
        Self::init(db)
    }

    fn create_dir(path: &Path) -> Result<(), StoreError> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
            }
        }
        Ok(())
    }

    /// Creates the tables and brings the journal to the current format.
    fn init(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(dberr)?;
        {
            txn.open_table(META).map_err(dberr)?;
            txn.open_table(BLOCKS).map_err(dberr)?;
            txn.open_table(INTENTS).map_err(dberr)?;
            txn.open_table(OPEN).map_err(dberr)?;
            txn.open_table(OUTPUTS).map_err(dberr)?;
            txn.open_table(NONCES).map_err(dberr)?;
            txn.open_table(INCLUDED).map_err(dberr)?;
            txn.open_table(PUBLISHED).map_err(dberr)?;
            txn.open_table(CURSOR).map_err(dberr)?;
            txn.open_table(REQUESTS).map_err(dberr)?;
            txn.open_table(FINALIZE_DUE).map_err(dberr)?;
            txn.open_table(DEADLINES).map_err(dberr)?;
            txn.open_table(FINALIZE_AT).map_err(dberr)?;
            txn.open_table(DEADLINES_AT).map_err(dberr)?;
            txn.open_table(CALLBACKS).map_err(dberr)?;
            txn.open_table(DELIVERIES).map_err(dberr)?;
            txn.open_table(GAMES).map_err(dberr)?;
            txn.open_table(JURY).map_err(dberr)?;
        }
        commit(txn)?;
        let store = Self {
            db,
            writes: std::sync::atomic::AtomicU64::new(0),
            durable: std::sync::atomic::AtomicU64::new(0),
        };
        store.check_version()?;
        Ok(store)
    }

    /// The journal's format version: the recorded one, else 1 when intents exist (they predate
    /// versioning), else `None` (a new journal).
    fn journal_version(&self) -> Result<Option<u32>, StoreError> {
        match self.get_meta(VERSION_KEY)? {
            Some(v) => {
                let b: [u8; 4] = v.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                    key: VERSION_KEY.into(),
                    reason: format!("{} bytes, expected 4", v.len()),
                })?;
                Ok(Some(u32::from_be_bytes(b)))
            }
            None => {
                let txn = self.db.begin_read().map_err(dberr)?;
                let t = txn.open_table(INTENTS).map_err(dberr)?;
                Ok((t.len().map_err(dberr)? > 0).then_some(1))
            }
        }
    }

    /// Brings the journal to [`JOURNAL_VERSION`]: records a new journal's version, migrates a
    /// journal of versions 1 to 5 in one durable write (all records or none), refuses any other
    /// version.
    fn check_version(&self) -> Result<(), StoreError> {
        match self.journal_version()? {
            Some(JOURNAL_VERSION) => Ok(()),
            None => self.write_version(&[]).map(drop),
            Some(from @ (2..=5)) => {
                let (moved, settled) = self.write_version(&[])?;
                tracing::info!(
                    helper_records = moved,
                    stranded_members_settled = settled,
                    from,
                    to = JOURNAL_VERSION,
                    "journal format migrated"
                );
                Ok(())
            }
            Some(1) => {
                let txn = self.db.begin_read().map_err(dberr)?;
                let t = txn.open_table(INTENTS).map_err(dberr)?;
                let mut migrated = Vec::new();
                for item in t.iter().map_err(dberr)? {
                    let (k, v) = item.map_err(dberr)?;
                    let old: v1::Intent =
                        serde_json::from_slice(v.value()).map_err(|e| corrupt(k.value(), e))?;
                    migrated.push(old.migrate()?);
                }
                drop(t);
                drop(txn);
                let (moved, settled) = self.write_version(&migrated)?;
                tracing::info!(
                    intents = migrated.len(),
                    helper_records = moved,
                    stranded_members_settled = settled,
                    from = 1,
                    to = JOURNAL_VERSION,
                    "journal format migrated"
                );
                Ok(())
            }
            Some(found) => Err(StoreError::UnsupportedJournalVersion {
                found,
                supported: JOURNAL_VERSION,
            }),
        }
    }

    /// Writes `intents` (overwriting), moves the helper records of an earlier format out of the
    /// metadata table into their own tables ([`v2`]), settles batch members stranded by a batch
    /// that ended ([`Store::settle_stranded_members`]), indexes the open intents, rebuilds the
    /// schedules' time-ordered indexes and records the current format version, in one durable
    /// write. Returns how many helper records moved and how many members were settled.
    fn write_version(&self, intents: &[Intent]) -> Result<(usize, usize), StoreError> {
        let txn = self.write(true)?;
        let moved;
        let settled;
        {
            let mut t = txn.open_table(INTENTS).map_err(dberr)?;
            for intent in intents {
                let bytes = encode(intent)?;
                t.insert(intent.key.as_str(), bytes.as_slice())
                    .map_err(dberr)?;
            }
            let stranded = Self::settle_stranded_members(&t)?;
            settled = stranded.len();
            for m in &stranded {
                t.insert(m.key.as_str(), encode(m)?.as_slice())
                    .map_err(dberr)?;
            }
            let mut open = txn.open_table(OPEN).map_err(dberr)?;
            open.retain(|_, _| false).map_err(dberr)?;
            for item in t.iter().map_err(dberr)? {
                let (k, v) = item.map_err(dberr)?;
                if decode(k.value(), v.value())?.is_open() {
                    open.insert(k.value(), ()).map_err(dberr)?;
                }
            }
            moved = v2::move_helper_records(&txn)?;
            Schedule::open(&txn, FINALIZE_DUE, FINALIZE_AT)?.reindex()?;
            Schedule::open(&txn, DEADLINES, DEADLINES_AT)?.reindex()?;
            let mut m = txn.open_table(META).map_err(dberr)?;
            m.insert(VERSION_KEY, JOURNAL_VERSION.to_be_bytes().as_slice())
                .map_err(dberr)?;
        }
        commit(txn)?;
        Ok((moved, settled))
    }

    /// The batch members of a journal written before version 6 that point at a batch that has
    /// ended, settled as the batch's end settles them since: done by the transaction of a batch
    /// that landed; pending again, to be sent alone ([`Intent::alone`]), for a batch given up or
    /// not in the journal. Before version 6 a batch's end and its members' were separate writes,
    /// and a crash between them left members `Batched` for good: not open work, so never sent (an
    /// attestation lost), or never booked (a landed one). Members of a batch still open are left
    /// as they are. A batch booked done with no transaction hands its members back too (nothing
    /// proves they landed; the keeper's start books one already answered on chain as done, with
    /// no gas spent). One pass over the intents holding only the carried members (few: those of
    /// the batches in flight), then a read of the batch each points at.
    fn settle_stranded_members(
        t: &redb::Table<'_, &str, &[u8]>,
    ) -> Result<Vec<Intent>, StoreError> {
        let mut carried = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            let intent = decode(k.value(), v.value())?;
            if let IntentStatus::Batched { batch } = &intent.status {
                carried.push((batch.clone(), intent));
            }
        }
        let mut settled = Vec::new();
        for (batch, m) in carried {
            let end = match t.get(batch.as_str()).map_err(dberr)? {
                Some(v) => Some(decode(&batch, v.value())?.status),
                None => None,
            };
            match end {
                Some(IntentStatus::Done {
                    tx_hash: Some(h), ..
                }) => settled.push(Intent {
                    status: IntentStatus::Done {
                        tx_hash: Some(h),
                        gas_used: None,
                    },
                    ..m
                }),
                Some(IntentStatus::Done { tx_hash: None, .. } | IntentStatus::Abandoned { .. })
                | None => settled.push(m.alone()),
                Some(_) => {}
            }
        }
        Ok(settled)
    }

    /// A write transaction. Durable ones (`durable = true`) are on disk when `commit` returns;
    /// deferred ones are visible at once but reach the disk with the next durable commit (redb
    /// persists commits in order, so a crash loses a suffix of deferred writes, never a middle).
    ///
    /// What is deferred: request facts, schedules, the log cursor and block hashes (a crash rewinds
    /// the cursor with them and the poller re-reads those logs), transaction outcomes (the
    /// restart's reconciliation reads their receipts again), and batches being formed with their
    /// members' pointers ([`Store::put_intents_deferred`]). What is durable: every other intent
    /// write, so an intent is on disk before its transaction is broadcast, and every deferred write
    /// before it; answers' outputs and published attestations are written with their intents
    /// ([`Store::journal_answers`]).
    fn write(&self, durable: bool) -> Result<redb::WriteTransaction, StoreError> {
        // Waits for the single writer: another task's commit may hold it.
        let mut txn = off_the_runtime(|| self.db.begin_write().map_err(dberr))?;
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if durable {
            self.durable
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            txn.set_durability(redb::Durability::None);
        }
        Ok(txn)
    }

    /// Stores `output` under its keccak256 (idempotent) and returns that hash. The keeper stores an
    /// output no later than it journals the attestation of it ([`Store::journal_answers`]), so every
    /// output it ever attests can be served.
    pub fn put_output(&self, output: &[u8]) -> Result<[u8; 32], StoreError> {
        let hash = alloy::primitives::keccak256(output).0;
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(OUTPUTS).map_err(dberr)?;
            t.insert(&hash, output).map_err(dberr)?;
        }
        commit(txn)?;
        Ok(hash)
    }

    /// Journals a chunk of answers in **one durable write**, all or none: each output under its
    /// keccak256, each intent only if no intent has its key (as [`Store::insert_intents_if_absent`]),
    /// and each published attestation (as [`Store::put_published`]). So an attestation is never
    /// journaled without its output, nor published without its intent, and a chunk costs one
    /// commit instead of one per row. Returns, per intent, whether it was inserted.
    pub fn journal_answers(
        &self,
        outputs: &[&[u8]],
        intents: &[Intent],
        published: &[PublishedRow],
    ) -> Result<Vec<bool>, StoreError> {
        if outputs.is_empty() && intents.is_empty() && published.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.write(true)?;
        let mut inserted = Vec::with_capacity(intents.len());
        {
            let mut o = txn.open_table(OUTPUTS).map_err(dberr)?;
            for output in outputs {
                o.insert(&alloy::primitives::keccak256(output).0, *output)
                    .map_err(dberr)?;
            }
            let mut t = IntentTables::open(&txn)?;
            for intent in intents {
                let fresh = !t.has(&intent.key)?;
                if fresh {
                    t.put(intent)?;
                }
                inserted.push(fresh);
            }
            let mut p = txn.open_table(PUBLISHED).map_err(dberr)?;
            for row in published {
                p.insert(&row.key(), row.json.as_slice()).map_err(dberr)?;
            }
        }
        commit(txn)?;
        Ok(inserted)
    }

    /// The output whose keccak256 is `hash`, if this keeper produced it.
    pub fn output(&self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(OUTPUTS).map_err(dberr)?;
        Ok(t.get(hash).map_err(dberr)?.map(|v| v.value().to_vec()))
    }

    /// Records a signed attestation this keeper published (idempotent), in a deferred write.
    pub fn put_published(&self, row: &PublishedRow) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(PUBLISHED).map_err(dberr)?;
            t.insert(&row.key(), row.json.as_slice()).map_err(dberr)?;
        }
        commit(txn)
    }

    /// The published attestations of `request_id` (JSON values), at most
    /// [`MAX_PUBLISHED_PER_REQUEST`].
    pub fn published(
        &self,
        request_id: alloy::primitives::U256,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut lo = [0u8; 64];
        lo[..32].copy_from_slice(&request_id.to_be_bytes::<32>());
        let mut hi = lo;
        hi[32..].fill(0xff);
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(PUBLISHED).map_err(dberr)?;
        let mut out = Vec::new();
        for row in t
            .range::<&[u8; 64]>(&lo..=&hi)
            .map_err(dberr)?
            .take(MAX_PUBLISHED_PER_REQUEST)
        {
            let (_, v) = row.map_err(dberr)?;
            out.push(v.value().to_vec());
        }
        Ok(out)
    }

    /// A raw metadata value.
    pub fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(META).map_err(dberr)?;
        Ok(t.get(key).map_err(dberr)?.map(|v| v.value().to_vec()))
    }

    /// Writes a raw metadata value (deferred durability, see [`Store::write`]).
    pub fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(META).map_err(dberr)?;
            t.insert(key, value).map_err(dberr)?;
        }
        commit(txn)
    }

    /// The log cursor, if any.
    pub fn cursor(&self) -> Result<Option<Cursor>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(CURSOR).map_err(dberr)?;
        Ok(t.get(())
            .map_err(dberr)?
            .map(|v| Cursor::from_row(v.value())))
    }

    /// Advances (or rewinds) the log cursor and remembers the block hash.
    pub fn set_cursor(&self, cursor: Cursor) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(CURSOR).map_err(dberr)?;
            t.insert((), &cursor.row()).map_err(dberr)?;
            let mut b = txn.open_table(BLOCKS).map_err(dberr)?;
            b.insert(cursor.block, cursor.hash.as_slice())
                .map_err(dberr)?;
        }
        commit(txn)
    }

    /// Records the hash of a processed block.
    pub fn put_block_hash(&self, block: u64, hash: [u8; 32]) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut b = txn.open_table(BLOCKS).map_err(dberr)?;
            b.insert(block, hash.as_slice()).map_err(dberr)?;
        }
        commit(txn)
    }

    /// Recorded block hashes in `[from, to]`, ascending.
    pub fn block_hashes(&self, from: u64, to: u64) -> Result<Vec<(u64, [u8; 32])>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(BLOCKS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.range(from..=to).map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            let mut h = [0u8; 32];
            if v.value().len() == 32 {
                h.copy_from_slice(v.value());
                out.push((k.value(), h));
            }
        }
        Ok(out)
    }

    /// Forgets recorded block hashes below `block` and at or above `from_inclusive_top` (after a reorg).
    pub fn prune_blocks(
        &self,
        below: u64,
        from_inclusive_top: Option<u64>,
    ) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut b = txn.open_table(BLOCKS).map_err(dberr)?;
            b.retain(|k, _| k >= below && from_inclusive_top.is_none_or(|top| k < top))
                .map_err(dberr)?;
        }
        commit(txn)
    }

    /// The intent stored under `key`.
    pub fn intent(&self, key: &str) -> Result<Option<Intent>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(INTENTS).map_err(dberr)?;
        t.get(key)
            .map_err(dberr)?
            .map(|v| decode(key, v.value()))
            .transpose()
    }

    /// The members of `batch` that `pick` selects, in the batch's order (a member not journaled is
    /// skipped). What a batch's end does to its members starts here: those it still carries
    /// ([`Store::members_carried`]) share its fate, and one elsewhere (done, sent alone, carried
    /// by another batch) is left as it is.
    pub fn members_where(
        &self,
        batch: &Intent,
        pick: impl Fn(&Intent) -> bool,
    ) -> Result<Vec<Intent>, StoreError> {
        let mut out = Vec::new();
        for key in &batch.members {
            if let Some(m) = self.intent(key)? {
                if pick(&m) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// The members `batch` still carries ([`Intent::carried_by`]), in its order.
    pub fn members_carried(&self, batch: &Intent) -> Result<Vec<Intent>, StoreError> {
        self.members_where(batch, |m| m.carried_by(&batch.key))
    }

    /// Writes `intent` (insert or overwrite), durably.
    pub fn put_intent(&self, intent: &Intent) -> Result<(), StoreError> {
        self.put_intent_seen_in(intent, None)
    }

    /// Writes several intents in one durable write: all or none (a batch and its members).
    pub fn put_intents(&self, intents: &[Intent]) -> Result<(), StoreError> {
        self.write_intents(intents, true)
    }

    /// [`Store::put_intents`] in a **deferred** write (see [`Store::write`]): all or none, visible
    /// at once, on disk with the next durable commit. Only for intents nothing was signed or sent
    /// on yet (batches being formed): a crash before the next durable write loses them together,
    /// and what they were formed from is as it was before.
    pub fn put_intents_deferred(&self, intents: &[Intent]) -> Result<(), StoreError> {
        self.write_intents(intents, false)
    }

    fn write_intents(&self, intents: &[Intent], durable: bool) -> Result<(), StoreError> {
        let txn = self.write(durable)?;
        {
            let mut t = IntentTables::open(&txn)?;
            let mut n = txn.open_table(NONCES).map_err(dberr)?;
            for intent in intents {
                t.put(intent)?;
                if let IntentStatus::Sent { nonce, .. } = intent.status {
                    n.insert(nonce, intent.key.as_str()).map_err(dberr)?;
                }
            }
        }
        commit(txn)
    }

    /// Records the outcome of a transaction read from its receipt (`Done`) in a **deferred** write:
    /// visible at once, on disk with the next durable commit ([`Store::sync`], or the next
    /// journal-before-broadcast write), so the send path never waits for the disk to book an
    /// outcome. Safe because an outcome is re-derivable: a crash that loses it leaves the intent
    /// `Sent`, and the restart's reconciliation finds the same receipt and books it again (redb
    /// persists commits in order, so what is lost is a suffix of outcomes, never a signed
    /// transaction).
    ///
    /// `intents`: the transaction's intent with the intents its outcome settles (a landed batch's
    /// members), written together. Where it was mined: `mined` (recorded at this sender nonce,
    /// [`Store::inclusions_from`], and its block) when known, else `block = (number, hash)`, as
    /// [`Store::put_intent_seen_in`] records it. The deferred twin of [`Store::put_failed`].
    pub fn put_outcomes(
        &self,
        intents: &[Intent],
        block: Option<(u64, [u8; 32])>,
        mined: Option<(u64, &Inclusion)>,
    ) -> Result<(), StoreError> {
        self.write_with_inclusion(intents, block, mined, false)
    }

    /// Makes every deferred write so far durable: one empty durable commit (the group commit of a
    /// round's outcomes).
    pub fn sync(&self) -> Result<(), StoreError> {
        commit(self.write(true)?)
    }

    /// Stores `intent` and, in the same write, records `block = (number, hash)` (the block its
    /// transaction landed in), so the log poller re-checks that block for reorgs. A `Sent` intent is
    /// also entered in the nonce index under its nonce, in the same write.
    pub fn put_intent_seen_in(
        &self,
        intent: &Intent,
        block: Option<(u64, [u8; 32])>,
    ) -> Result<(), StoreError> {
        self.write_with_inclusion(std::slice::from_ref(intent), block, None, true)
    }

    /// A failed transaction's intent and the intents its failure changes (an abandoned batch's
    /// members, handed back to be sent alone), in one durable write, with where the transaction was
    /// mined (`mined`: recorded at this sender nonce, [`Store::inclusions_from`]; else `block`, as
    /// [`Store::put_intent_seen_in`]): a crash leaves all of it or none.
    pub fn put_failed(
        &self,
        intents: &[Intent],
        block: Option<(u64, [u8; 32])>,
        mined: Option<(u64, &Inclusion)>,
    ) -> Result<(), StoreError> {
        self.write_with_inclusion(intents, block, mined, true)
    }

    /// `intents` with where a transaction was included (`mined` wins over `block`), in one write:
    /// `durable` or deferred. An intent `Sent` at a nonce is entered in the nonce index too.
    fn write_with_inclusion(
        &self,
        intents: &[Intent],
        block: Option<(u64, [u8; 32])>,
        mined: Option<(u64, &Inclusion)>,
        durable: bool,
    ) -> Result<(), StoreError> {
        let block = mined.map_or(block, |(_, at)| Some((at.block, at.block_hash)));
        let txn = self.write(durable)?;
        {
            let mut t = IntentTables::open(&txn)?;
            for intent in intents {
                t.put(intent)?;
            }
            if let Some((n, h)) = block {
                let mut b = txn.open_table(BLOCKS).map_err(dberr)?;
                b.insert(n, h.as_slice()).map_err(dberr)?;
            }
            if let Some((nonce, at)) = mined {
                let mut m = txn.open_table(INCLUDED).map_err(dberr)?;
                m.insert(nonce, &at.row()).map_err(dberr)?;
            }
            for intent in intents {
                if let IntentStatus::Sent { nonce, .. } = intent.status {
                    let mut n = txn.open_table(NONCES).map_err(dberr)?;
                    n.insert(nonce, intent.key.as_str()).map_err(dberr)?;
                }
            }
        }
        commit(txn)
    }

    /// The nonce index from `from` up: `(nonce, key of the intent that last signed a transaction at
    /// it)`, ascending.
    pub fn nonces_from(&self, from: u64) -> Result<Vec<(u64, String)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(NONCES).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.range(from..).map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((k.value(), v.value().to_string()));
        }
        Ok(out)
    }

    /// Where our transactions at sender nonces from `from` up were mined, as their receipts said
    /// (recorded by [`Store::put_outcomes`] and [`Store::put_failed`]), ascending by
    /// nonce. A nonce whose receipt was never read, or read before this record existed, has none.
    pub fn inclusions_from(&self, from: u64) -> Result<Vec<(u64, Inclusion)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(INCLUDED).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.range(from..).map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((k.value(), Inclusion::from_row(v.value())));
        }
        Ok(out)
    }

    /// The highest block whose hash is recorded (a block one of our transactions was mined in, or
    /// the log cursor's), if any.
    pub fn last_block(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(BLOCKS).map_err(dberr)?;
        let last = t.last().map_err(dberr)?.map(|(k, _)| k.value());
        Ok(last)
    }

    /// Forgets nonce index entries (and where their transactions were mined) below `below` (nonces
    /// mined long ago).
    pub fn prune_nonces(&self, below: u64) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(NONCES).map_err(dberr)?;
            t.retain(|k, _| k >= below).map_err(dberr)?;
            let mut m = txn.open_table(INCLUDED).map_err(dberr)?;
            m.retain(|k, _| k >= below).map_err(dberr)?;
        }
        commit(txn)
    }

    /// Inserts `intent` only if no intent has its key; returns whether it was inserted. This is what
    /// makes the journal idempotent: re-seeing the same log after a restart creates nothing new.
    pub fn insert_intent_if_absent(&self, intent: &Intent) -> Result<bool, StoreError> {
        Ok(self
            .insert_intents_if_absent(std::slice::from_ref(intent))?
            .first()
            .copied()
            .unwrap_or(false))
    }

    /// [`Store::insert_intent_if_absent`] for several intents in one durable write (one disk sync for
    /// all of them): each is inserted only if no intent has its key. Returns, per intent, whether it
    /// was inserted.
    pub fn insert_intents_if_absent(&self, intents: &[Intent]) -> Result<Vec<bool>, StoreError> {
        self.journal_answers(&[], intents, &[])
    }

    /// Writes one row of a helper table (deferred durability, see [`Store::write`]).
    fn put_row<'k, 'v, K: Key + 'static, V: Value + 'static>(
        &self,
        table: TableDefinition<K, V>,
        key: impl std::borrow::Borrow<K::SelfType<'k>>,
        value: impl std::borrow::Borrow<V::SelfType<'v>>,
    ) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(table).map_err(dberr)?;
            t.insert(key, value).map_err(dberr)?;
        }
        commit(txn)
    }

    /// Removes one row of a helper table (deferred durability).
    fn remove_row<'k, K: Key + 'static, V: Value + 'static>(
        &self,
        table: TableDefinition<K, V>,
        key: impl std::borrow::Borrow<K::SelfType<'k>>,
    ) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(table).map_err(dberr)?;
            t.remove(key).map_err(dberr)?;
        }
        commit(txn)
    }

    /// Every row of a `request id -> u64` helper table, ascending by id.
    fn id_times(
        &self,
        table: TableDefinition<&[u8; 32], u64>,
    ) -> Result<Vec<(U256, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(table).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((U256::from_be_bytes(*k.value()), v.value()));
        }
        Ok(out)
    }

    /// Records what the keeper read of request `id` (deferred durability).
    pub fn put_request(&self, id: U256, facts: &RequestFacts) -> Result<(), StoreError> {
        self.put_requests(&[(id, facts.clone())], false)
    }

    /// Records what the keeper read of several requests (the ones created in one polled range) and,
    /// with `watch_deadlines`, watches their answer deadlines ([`Store::watch_deadline`]), in one
    /// deferred write: one commit for the range instead of one or two per request.
    pub fn put_requests(
        &self,
        requests: &[(U256, RequestFacts)],
        watch_deadlines: bool,
    ) -> Result<(), StoreError> {
        if requests.is_empty() {
            return Ok(());
        }
        let txn = self.write(false)?;
        {
            let mut t = txn.open_table(REQUESTS).map_err(dberr)?;
            let mut d = Schedule::open(&txn, DEADLINES, DEADLINES_AT)?;
            for (id, facts) in requests {
                let v =
                    serde_json::to_vec(facts).map_err(|e| corrupt(&format!("request {id}"), e))?;
                let key = id.to_be_bytes::<32>();
                t.insert(&key, v.as_slice()).map_err(dberr)?;
                if watch_deadlines {
                    d.set(&key, facts.deadline)?;
                }
            }
        }
        commit(txn)
    }

    /// What the keeper read of request `id`, if it saw its `RequestCreated`.
    pub fn request(&self, id: U256) -> Result<Option<RequestFacts>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(REQUESTS).map_err(dberr)?;
        t.get(&id.to_be_bytes::<32>())
            .map_err(dberr)?
            .map(|v| {
                serde_json::from_slice(v.value()).map_err(|e| corrupt(&format!("request {id}"), e))
            })
            .transpose()
    }

    /// How many write transactions this handle has begun since it opened the database (each
    /// ends in one commit, or in none when it fails): what a caller's writes cost the journal.
    pub fn write_transactions(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many of [`Store::write_transactions`] were durable (each waits for the disk): the
    /// journal's cost on a send path.
    pub fn durable_writes(&self) -> u64 {
        self.durable.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Applies `changes` to the schedules in their order (a later change of one request overrides
    /// an earlier one), in one deferred write: the collect stage writes the schedule changes of a
    /// whole polled range at once, not one commit per event.
    pub fn change_schedules(&self, changes: &[ScheduleChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let txn = self.write(false)?;
        apply_schedule_changes(&txn, changes)?;
        commit(txn)
    }

    /// What the finalizer's schedules called for, in one write: journals `intents` (each only if
    /// absent: one journaled by an earlier run that stopped before forgetting its schedule is left
    /// as it is) and applies `changes` (the schedules acted on, forgotten). A crash leaves all of
    /// it or none: a schedule is never forgotten without its intents. Durable when it journals
    /// intents; schedules forgotten alone (a passed deadline that called for nothing) are a
    /// deferred write, read again after a crash and found to call for nothing again.
    pub fn journal_schedules_acted_on(
        &self,
        intents: &[Intent],
        changes: &[ScheduleChange],
    ) -> Result<(), StoreError> {
        if intents.is_empty() && changes.is_empty() {
            return Ok(());
        }
        let txn = self.write(!intents.is_empty())?;
        {
            let mut t = IntentTables::open(&txn)?;
            for intent in intents {
                if !t.has(&intent.key)? {
                    t.put(intent)?;
                }
            }
        }
        apply_schedule_changes(&txn, changes)?;
        commit(txn)
    }

    /// Scheduled finalizations: `(request id, window end)`, ascending by id.
    pub fn finalizations(&self) -> Result<Vec<(U256, u64)>, StoreError> {
        self.id_times(FINALIZE_DUE)
    }

    /// The scheduled finalizations whose window ended before `now`, the `limit` earliest:
    /// `(request id, window end)`, ascending by window end. Reads only those (the time-ordered
    /// index), however many are scheduled.
    pub fn finalizations_due(
        &self,
        now: u64,
        limit: usize,
    ) -> Result<Vec<(U256, u64)>, StoreError> {
        self.times_before(FINALIZE_AT, now, limit)
    }

    /// Watches request `id`'s answer `deadline` (reports of missed answers, expiry).
    pub fn watch_deadline(&self, id: U256, deadline: u64) -> Result<(), StoreError> {
        let txn = self.write(false)?;
        Schedule::open(&txn, DEADLINES, DEADLINES_AT)?.set(&id.to_be_bytes::<32>(), deadline)?;
        commit(txn)
    }

    /// Watched deadlines: `(request id, deadline)`, ascending by id.
    pub fn deadlines(&self) -> Result<Vec<(U256, u64)>, StoreError> {
        self.id_times(DEADLINES)
    }

    /// The watched deadlines that passed before `now`, the `limit` earliest: `(request id,
    /// deadline)`, ascending by deadline. Reads only those (the time-ordered index), however many
    /// are watched.
    pub fn deadlines_passed(&self, now: u64, limit: usize) -> Result<Vec<(U256, u64)>, StoreError> {
        self.times_before(DEADLINES_AT, now, limit)
    }

    /// The first `limit` entries of a time-ordered schedule index before `now`, in time order.
    fn times_before(
        &self,
        index: TableDefinition<(u64, &[u8; 32]), ()>,
        now: u64,
        limit: usize,
    ) -> Result<Vec<(U256, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(index).map_err(dberr)?;
        let mut out = Vec::new();
        let range = t
            .range((0u64, &[0u8; 32])..(now, &[0u8; 32]))
            .map_err(dberr)?;
        for item in range.take(limit) {
            let (k, _) = item.map_err(dberr)?;
            let (at, id) = k.value();
            out.push((U256::from_be_bytes(*id), at));
        }
        Ok(out)
    }

    /// Records that request `id` calls a consumer back (`early`: also at quorum).
    pub fn put_callback(&self, id: U256, early: bool) -> Result<(), StoreError> {
        self.put_row(CALLBACKS, &id.to_be_bytes::<32>(), early)
    }

    /// Whether request `id` calls a consumer back: `Some(early)` if it does.
    pub fn callback(&self, id: U256) -> Result<Option<bool>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(CALLBACKS).map_err(dberr)?;
        Ok(t.get(&id.to_be_bytes::<32>())
            .map_err(dberr)?
            .map(|v| v.value()))
    }

    /// Forgets request `id`'s callback (its final delivery is scheduled).
    pub fn forget_callback(&self, id: U256) -> Result<(), StoreError> {
        self.remove_row(CALLBACKS, &id.to_be_bytes::<32>())
    }

    /// Schedules the `stage` callback delivery of request `id` at `due` (unix seconds).
    pub fn schedule_delivery(
        &self,
        stage: DeliveryStage,
        id: U256,
        due: u64,
    ) -> Result<(), StoreError> {
        self.put_row(DELIVERIES, &delivery_key(stage, id), due)
    }

    /// Scheduled deliveries: `(stage, request id, due)`.
    pub fn deliveries(&self) -> Result<Vec<(DeliveryStage, U256, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(DELIVERIES).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            let k = k.value();
            let stage = if k[0] == DeliveryStage::Early.byte() {
                DeliveryStage::Early
            } else {
                DeliveryStage::Final
            };
            out.push((stage, U256::from_be_slice(&k[1..]), v.value()));
        }
        Ok(out)
    }

    /// Drops a scheduled delivery (journaled, or no longer needed).
    pub fn forget_delivery(&self, stage: DeliveryStage, id: U256) -> Result<(), StoreError> {
        self.remove_row(DELIVERIES, &delivery_key(stage, id))
    }

    /// Remembers referee game `game`, which this keeper plays.
    pub fn put_game(&self, game: U256, record: GameRecord) -> Result<(), StoreError> {
        self.put_row(GAMES, &game.to_be_bytes::<32>(), &record.row())
    }

    /// The referee game `game`, if this keeper plays it.
    pub fn game(&self, game: U256) -> Result<Option<GameRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(GAMES).map_err(dberr)?;
        Ok(t.get(&game.to_be_bytes::<32>())
            .map_err(dberr)?
            .map(|v| GameRecord::from_row(v.value())))
    }

    /// The referee games this keeper plays, ascending by game id.
    pub fn games(&self) -> Result<Vec<(U256, GameRecord)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(GAMES).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((
                U256::from_be_bytes(*k.value()),
                GameRecord::from_row(v.value()),
            ));
        }
        Ok(out)
    }

    /// Forgets referee game `game` (over).
    pub fn forget_game(&self, game: U256) -> Result<(), StoreError> {
        self.remove_row(GAMES, &game.to_be_bytes::<32>())
    }

    /// Watches drafted-jury dispute `dispute` (deferred durability: a crash before a durable write
    /// re-reads the `DisputeOpened` log that added it).
    pub fn watch_jury(&self, dispute: U256, watch: &JuryWatch) -> Result<(), StoreError> {
        let v = serde_json::to_vec(watch).map_err(|e| corrupt(&format!("jury {dispute}"), e))?;
        self.put_row(JURY, &dispute.to_be_bytes::<32>(), v.as_slice())
    }

    /// The drafted-jury disputes watched, ascending by dispute id.
    pub fn jury_watches(&self) -> Result<Vec<(U256, JuryWatch)>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(JURY).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            let id = U256::from_be_bytes(*k.value());
            let w =
                serde_json::from_slice(v.value()).map_err(|e| corrupt(&format!("jury {id}"), e))?;
            out.push((id, w));
        }
        Ok(out)
    }

    /// Stops watching drafted-jury dispute `dispute` (settled).
    pub fn forget_jury(&self, dispute: U256) -> Result<(), StoreError> {
        self.remove_row(JURY, &dispute.to_be_bytes::<32>())
    }

    /// Every intent, in key order.
    pub fn intents(&self) -> Result<Vec<Intent>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let t = txn.open_table(INTENTS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push(decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Intents that still need work, in key order: read through the open index, so the cost is the
    /// open work's, not the whole journal's.
    pub fn open_intents(&self) -> Result<Vec<Intent>, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let open = txn.open_table(OPEN).map_err(dberr)?;
        let t = txn.open_table(INTENTS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in open.iter().map_err(dberr)? {
            let (k, _) = item.map_err(dberr)?;
            let key = k.value();
            let v = t
                .get(key)
                .map_err(dberr)?
                .ok_or_else(|| StoreError::Corrupt {
                    key: key.to_string(),
                    reason: "indexed as open but not in the journal".into(),
                })?;
            out.push(decode(key, v.value())?);
        }
        Ok(out)
    }

    /// How many intents still need work (the open index's size).
    pub fn open_count(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read().map_err(dberr)?;
        let open = txn.open_table(OPEN).map_err(dberr)?;
        open.len().map_err(dberr)
    }
}

/// Where a transaction of ours was mined, as its receipt said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inclusion {
    /// The transaction.
    pub tx_hash: TxHash,
    /// The number of the block it was mined in.
    pub block: u64,
    /// That block's hash.
    pub block_hash: [u8; 32],
}

impl Inclusion {
    /// Its row in the `included` table: `tx hash ‖ block ‖ block hash`.
    fn row(&self) -> [u8; 72] {
        let mut r = [0u8; 72];
        r[..32].copy_from_slice(self.tx_hash.as_slice());
        r[32..40].copy_from_slice(&self.block.to_be_bytes());
        r[40..].copy_from_slice(&self.block_hash);
        r
    }

    fn from_row(r: &[u8; 72]) -> Self {
        let mut block = [0u8; 8];
        block.copy_from_slice(&r[32..40]);
        let mut block_hash = [0u8; 32];
        block_hash.copy_from_slice(&r[40..]);
        Self {
            tx_hash: TxHash::from_slice(&r[..32]),
            block: u64::from_be_bytes(block),
            block_hash,
        }
    }
}

impl Cursor {
    /// Its row in the `cursor` table: `block ‖ hash`.
    fn row(&self) -> [u8; 40] {
        let mut r = [0u8; 40];
        r[..8].copy_from_slice(&self.block.to_be_bytes());
        r[8..].copy_from_slice(&self.hash);
        r
    }

    fn from_row(r: &[u8; 40]) -> Self {
        let mut block = [0u8; 8];
        block.copy_from_slice(&r[..8]);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&r[8..]);
        Self {
            block: u64::from_be_bytes(block),
            hash,
        }
    }
}

impl GameRecord {
    /// Its row in the `games` table: `request id ‖ side`.
    fn row(&self) -> [u8; 33] {
        let mut r = [0u8; 33];
        r[..32].copy_from_slice(&self.request.to_be_bytes::<32>());
        r[32] = self.side;
        r
    }

    fn from_row(r: &[u8; 33]) -> Self {
        Self {
            request: U256::from_be_slice(&r[..32]),
            side: r[32],
        }
    }
}

/// The `deliveries` key of `stage` for request `id`: `stage ‖ id`.
fn delivery_key(stage: DeliveryStage, id: U256) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = stage.byte();
    k[1..].copy_from_slice(&id.to_be_bytes::<32>());
    k
}

/// The on-disk form of an intent (format [`JOURNAL_VERSION`]).
fn encode(intent: &Intent) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(intent).map_err(|e| corrupt(&intent.key, e))
}

/// The intent stored under `key` as `bytes` ([`encode`]'s form).
fn decode(key: &str, bytes: &[u8]) -> Result<Intent, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(key, e))
}

/// Applies `changes` to the schedules in their order, inside `txn`.
fn apply_schedule_changes(
    txn: &redb::WriteTransaction,
    changes: &[ScheduleChange],
) -> Result<(), StoreError> {
    let mut due = Schedule::open(txn, FINALIZE_DUE, FINALIZE_AT)?;
    let mut deadlines = Schedule::open(txn, DEADLINES, DEADLINES_AT)?;
    for c in changes {
        match *c {
            ScheduleChange::Finalize { id, window_end } => {
                due.set(&id.to_be_bytes::<32>(), window_end)?;
            }
            ScheduleChange::ForgetFinalize(id) => {
                due.forget(&id.to_be_bytes::<32>())?;
            }
            ScheduleChange::ForgetDeadline(id) => {
                deadlines.forget(&id.to_be_bytes::<32>())?;
            }
        }
    }
    Ok(())
}

/// A schedule table (request id -> chain time) and its time-ordered index (`(time, request id)`),
/// opened in one write transaction: every change through [`Schedule::set`] and
/// [`Schedule::forget`] keeps the index in step in that same write.
struct Schedule<'txn> {
    by_id: redb::Table<'txn, &'static [u8; 32], u64>,
    by_time: redb::Table<'txn, (u64, &'static [u8; 32]), ()>,
}

impl<'txn> Schedule<'txn> {
    fn open(
        txn: &'txn redb::WriteTransaction,
        by_id: TableDefinition<'static, &'static [u8; 32], u64>,
        by_time: TableDefinition<'static, (u64, &'static [u8; 32]), ()>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            by_id: txn.open_table(by_id).map_err(dberr)?,
            by_time: txn.open_table(by_time).map_err(dberr)?,
        })
    }

    /// Schedules request `id` at `at`, replacing its earlier time (and that time's index entry).
    fn set(&mut self, id: &[u8; 32], at: u64) -> Result<(), StoreError> {
        let before = self.by_id.insert(id, at).map_err(dberr)?.map(|v| v.value());
        if let Some(before) = before.filter(|b| *b != at) {
            self.by_time.remove((before, id)).map_err(dberr)?;
        }
        self.by_time.insert((at, id), ()).map_err(dberr)?;
        Ok(())
    }

    /// Drops request `id`'s schedule, with its index entry.
    fn forget(&mut self, id: &[u8; 32]) -> Result<(), StoreError> {
        let before = self.by_id.remove(id).map_err(dberr)?.map(|v| v.value());
        if let Some(before) = before {
            self.by_time.remove((before, id)).map_err(dberr)?;
        }
        Ok(())
    }

    /// Rebuilds the index from the schedule table (a journal of an earlier format had none).
    fn reindex(&mut self) -> Result<usize, StoreError> {
        self.by_time.retain(|_, _| false).map_err(dberr)?;
        let mut n = 0;
        for item in self.by_id.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            self.by_time
                .insert((v.value(), k.value()), ())
                .map_err(dberr)?;
            n += 1;
        }
        Ok(n)
    }
}

/// The journal's intent table and its open index, opened in one write transaction: every intent
/// written through [`IntentTables::put`] keeps the index in step in that same write.
struct IntentTables<'txn> {
    intents: redb::Table<'txn, &'static str, &'static [u8]>,
    open: redb::Table<'txn, &'static str, ()>,
}

impl<'txn> IntentTables<'txn> {
    fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            intents: txn.open_table(INTENTS).map_err(dberr)?,
            open: txn.open_table(OPEN).map_err(dberr)?,
        })
    }

    /// Whether an intent is stored under `key`.
    fn has(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.intents.get(key).map_err(dberr)?.is_some())
    }

    /// Writes `intent` (insert or overwrite) and indexes it as open or not.
    fn put(&mut self, intent: &Intent) -> Result<(), StoreError> {
        let key = intent.key.as_str();
        self.intents
            .insert(key, encode(intent)?.as_slice())
            .map_err(dberr)?;
        if intent.is_open() {
            self.open.insert(key, ()).map_err(dberr)?;
        } else {
            self.open.remove(key).map_err(dberr)?;
        }
        Ok(())
    }
}

/// Journal format version 1 (before [`JOURNAL_VERSION`] 2): addresses, hashes, bytes and ids as
/// hex or decimal strings. Read only to migrate.
mod v1 {
    use super::{corrupt, Address, Bytes, IntentKind, StoreError, TxHash};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(tag = "state", rename_all = "snake_case")]
    pub(super) enum Status {
        Pending,
        Sent {
            nonce: u64,
            tx_hash: String,
            raw: String,
            #[serde(default)]
            all_hashes: Vec<String>,
        },
        Done {
            tx_hash: Option<String>,
            gas_used: Option<u64>,
        },
        Batched {
            batch: String,
        },
        Abandoned {
            reason: String,
        },
    }

    #[derive(Deserialize)]
    pub(super) struct Intent {
        key: String,
        kind: IntentKind,
        subject: String,
        to: String,
        calldata: String,
        status: Status,
        #[serde(default)]
        members: Vec<String>,
        #[serde(default)]
        single_only: bool,
    }

    impl Intent {
        /// The same record in the current format. The subject was a decimal request id, a batch's
        /// joined member keys or empty: only an id carries over.
        pub(super) fn migrate(self) -> Result<super::Intent, StoreError> {
            let key = self.key;
            fn parse<T: std::str::FromStr>(key: &str, what: &str, v: &str) -> Result<T, StoreError>
            where
                T::Err: std::fmt::Display,
            {
                v.parse()
                    .map_err(|e| corrupt(key, format!("{what} {v:?}: {e}")))
            }
            let hashes = |v: &[String]| -> Result<Vec<_>, StoreError> {
                v.iter()
                    .map(|h| parse::<TxHash>(&key, "tx hash", h))
                    .collect()
            };
            let status = match self.status {
                Status::Pending => super::IntentStatus::Pending,
                Status::Sent {
                    nonce,
                    tx_hash,
                    raw,
                    all_hashes,
                } => super::IntentStatus::Sent {
                    nonce,
                    tx_hash: parse::<TxHash>(&key, "tx hash", &tx_hash)?,
                    raw: parse::<Bytes>(&key, "raw transaction", &raw)?,
                    all_hashes: hashes(&all_hashes)?,
                },
                Status::Done { tx_hash, gas_used } => super::IntentStatus::Done {
                    tx_hash: tx_hash
                        .map(|h| parse::<TxHash>(&key, "tx hash", &h))
                        .transpose()?,
                    gas_used,
                },
                Status::Batched { batch } => super::IntentStatus::Batched { batch },
                Status::Abandoned { reason } => super::IntentStatus::Abandoned { reason },
            };
            Ok(super::Intent {
                kind: self.kind,
                // `"".parse::<U256>()` is 0: an empty subject is no request.
                subject: if self.subject.is_empty() {
                    None
                } else {
                    self.subject.parse().ok()
                },
                to: if self.to.is_empty() {
                    None
                } else {
                    Some(parse::<Address>(&key, "address", &self.to)?)
                },
                calldata: parse::<Bytes>(&key, "calldata", &self.calldata)?,
                status,
                members: self.members,
                single_only: self.single_only,
                key,
            })
        }
    }
}

/// Journal format version 2 (and 1): helper records as string-prefixed entries of the metadata
/// table. Read only to migrate.
mod v2 {
    use super::{
        corrupt, dberr, delivery_key, Cursor, DeliveryStage, GameRecord, RequestFacts, StoreError,
        CALLBACKS, CURSOR, DEADLINES, DELIVERIES, FINALIZE_DUE, GAMES, META, REQUESTS, U256,
    };
    use redb::ReadableTable;
    use serde::Deserialize;

    /// `cb:<id>`.
    #[derive(Deserialize)]
    struct Callback {
        early: bool,
    }

    /// `rg:<game>`.
    #[derive(Deserialize)]
    struct Game {
        request: U256,
        side: u8,
    }

    /// A zero-padded decimal id after `prefix`.
    fn id(key: &str, prefix: &str) -> Result<U256, StoreError> {
        let digits = key.strip_prefix(prefix).unwrap_or(key);
        digits
            .parse()
            .map_err(|e| corrupt(key, format!("id {digits:?}: {e}")))
    }

    /// An 8-byte big-endian time.
    fn time(key: &str, v: &[u8]) -> Result<u64, StoreError> {
        let b: [u8; 8] = v
            .try_into()
            .map_err(|_| corrupt(key, format!("{} bytes, expected 8", v.len())))?;
        Ok(u64::from_be_bytes(b))
    }

    fn json<'a, T: Deserialize<'a>>(key: &str, v: &'a [u8]) -> Result<T, StoreError> {
        serde_json::from_slice(v).map_err(|e| corrupt(key, e))
    }

    /// Moves every helper record of the metadata table into its own table, inside `txn` (the
    /// migration's one durable write). A record that does not parse fails the whole migration with
    /// [`StoreError::Corrupt`] naming its key. Returns how many moved.
    pub(super) fn move_helper_records(txn: &redb::WriteTransaction) -> Result<usize, StoreError> {
        let mut meta = txn.open_table(META).map_err(dberr)?;
        let mut rows = Vec::new();
        for item in meta.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            rows.push((k.value().to_string(), v.value().to_vec()));
        }
        let mut moved = 0;
        for (k, v) in rows {
            let k = k.as_str();
            if k == "cursor" {
                let c: Cursor = json(k, &v)?;
                txn.open_table(CURSOR)
                    .map_err(dberr)?
                    .insert((), &c.row())
                    .map_err(dberr)?;
            } else if k.starts_with("req:") {
                let facts: RequestFacts = json(k, &v)?;
                let bytes = serde_json::to_vec(&facts).map_err(|e| corrupt(k, e))?;
                txn.open_table(REQUESTS)
                    .map_err(dberr)?
                    .insert(&id(k, "req:")?.to_be_bytes::<32>(), bytes.as_slice())
                    .map_err(dberr)?;
            } else if k.starts_with("fin:") {
                txn.open_table(FINALIZE_DUE)
                    .map_err(dberr)?
                    .insert(&id(k, "fin:")?.to_be_bytes::<32>(), time(k, &v)?)
                    .map_err(dberr)?;
            } else if k.starts_with("dl:") {
                txn.open_table(DEADLINES)
                    .map_err(dberr)?
                    .insert(&id(k, "dl:")?.to_be_bytes::<32>(), time(k, &v)?)
                    .map_err(dberr)?;
            } else if k.starts_with("cb:") {
                let cb: Callback = json(k, &v)?;
                txn.open_table(CALLBACKS)
                    .map_err(dberr)?
                    .insert(&id(k, "cb:")?.to_be_bytes::<32>(), cb.early)
                    .map_err(dberr)?;
            } else if let Some(rest) = k.strip_prefix("dv:") {
                let (stage, prefix) = if rest.starts_with("early:") {
                    (DeliveryStage::Early, "dv:early:")
                } else if rest.starts_with("final:") {
                    (DeliveryStage::Final, "dv:final:")
                } else {
                    return Err(corrupt(k, "unknown delivery stage"));
                };
                txn.open_table(DELIVERIES)
                    .map_err(dberr)?
                    .insert(&delivery_key(stage, id(k, prefix)?), time(k, &v)?)
                    .map_err(dberr)?;
            } else if k.starts_with("rg:") {
                let g: Game = json(k, &v)?;
                let record = GameRecord {
                    request: g.request,
                    side: g.side,
                };
                txn.open_table(GAMES)
                    .map_err(dberr)?
                    .insert(&id(k, "rg:")?.to_be_bytes::<32>(), &record.row())
                    .map_err(dberr)?;
            } else {
                continue; // metadata proper (the version key)
            }
            meta.remove(k).map_err(dberr)?;
            moved += 1;
        }
        Ok(moved)
    }
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(key: &str) -> Intent {
        Intent {
            key: key.into(),
            kind: IntentKind::Attest,
            subject: Some(U256::from(1)),
            to: Some(Address::ZERO),
            calldata: Bytes::new(),
            status: IntentStatus::Pending,
            members: vec![],
            single_only: false,
        }
    }

    /// A batch's end settles only the members it still carries, in the batch's order: a member
    /// done, carried by another batch or never journaled is not among them, and handing one back
    /// makes it pending and never batched again.
    #[test]
    fn only_the_members_a_batch_still_carries_share_its_fate() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        let status = |batch: &str| IntentStatus::Batched {
            batch: batch.into(),
        };
        let member = |key: &str, st: IntentStatus| Intent {
            status: st,
            ..intent(key)
        };
        let batch = Intent {
            members: ["m3", "m1", "m2", "m4", "gone"].map(String::from).to_vec(),
            ..intent("b")
        };
        s.put_intents(&[
            member("m1", status("b")),
            member(
                "m2",
                IntentStatus::Done {
                    tx_hash: None,
                    gas_used: None,
                },
            ),
            member("m3", status("b")),
            member("m4", status("other")),
            batch.clone(),
        ])
        .unwrap();
        let carried = s.members_carried(&batch).unwrap();
        let keys: Vec<&str> = carried.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            keys,
            ["m3", "m1"],
            "carried ones only, in the batch's order"
        );
        let done = s
            .members_where(&batch, |m| matches!(m.status, IntentStatus::Done { .. }))
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].key, "m2");
        let back = carried[0].clone().alone();
        assert_eq!(back.status, IntentStatus::Pending);
        assert!(back.single_only);
        assert!(!back.carried_by("b"));
    }

    /// A write that waits on the disk (here for the single writer, which another thread holds) does
    /// not hold up the other tasks of a multi-threaded runtime, even with one worker: a separate
    /// task the writing task woke just before its write runs while the write still waits. (The
    /// keeper's collect and execute stages share one task: this does not cover them.) Before, it
    /// waited for the write: here 10 s, until the holder gave up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_write_waiting_on_the_disk_does_not_hold_up_the_task_it_woke() {
        let dir = tempfile::tempdir().unwrap();
        let s = std::sync::Arc::new(Store::open(&dir.path().join("k.redb")).unwrap());
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (ran_tx, ran_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let s = s.clone();
            std::thread::spawn(move || {
                let txn = s.db.begin_write().unwrap();
                held_tx.send(()).unwrap();
                let ran = ran_rx
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .is_ok();
                drop(txn);
                ran
            })
        };
        held_rx.recv().unwrap();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let woken = tokio::spawn(async move {
            go_rx.await.unwrap();
            // The holder stopped listening after 10 s: the assertion below names the failure.
            let _ = ran_tx.send(());
        });
        let writer = {
            let s = s.clone();
            tokio::spawn(async move {
                go_tx.send(()).unwrap();
                s.put_intent(&intent("attest:1:0xab")).unwrap();
            })
        };
        writer.await.unwrap();
        woken.await.unwrap();
        assert!(
            holder.join().unwrap(),
            "the woken task ran while the write waited for the writer"
        );
        assert!(s.intent("attest:1:0xab").unwrap().is_some());
    }

    /// Several answers journaled in one write: new keys are inserted, an existing key is left as it
    /// was (not overwritten), and all of them are on disk after a reopen.
    #[test]
    fn several_intents_are_inserted_if_absent_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        {
            let s = Store::open(&path).unwrap();
            let mut old = intent("attest:1:0xab");
            old.single_only = true;
            s.put_intent(&old).unwrap();
            let inserted = s
                .insert_intents_if_absent(&[
                    intent("attest:1:0xab"),
                    intent("attest:2:0xab"),
                    intent("attest:3:0xab"),
                ])
                .unwrap();
            assert_eq!(inserted, vec![false, true, true]);
            assert!(s.insert_intents_if_absent(&[]).unwrap().is_empty());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.open_intents().unwrap().len(), 3);
        assert!(
            s.intent("attest:1:0xab").unwrap().unwrap().single_only,
            "an existing intent was overwritten"
        );
    }

    #[test]
    fn cursor_and_intents_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.cursor().unwrap(), None);
            s.set_cursor(Cursor {
                block: 42,
                hash: [7; 32],
            })
            .unwrap();
            assert!(s.insert_intent_if_absent(&intent("attest:1:0xab")).unwrap());
            assert!(!s.insert_intent_if_absent(&intent("attest:1:0xab")).unwrap());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.cursor().unwrap(),
            Some(Cursor {
                block: 42,
                hash: [7; 32]
            })
        );
        assert_eq!(s.open_intents().unwrap().len(), 1);
        let mut i = s.intent("attest:1:0xab").unwrap().unwrap();
        i.status = IntentStatus::Done {
            tx_hash: None,
            gas_used: None,
        };
        s.put_intent(&i).unwrap();
        assert!(s.open_intents().unwrap().is_empty());
        assert_eq!(s.intents().unwrap().len(), 1);
    }

    /// Where a transaction was mined is kept by nonce with its outcome (deferred or durable), read
    /// back from a nonce up, and pruned with the nonce index; the highest recorded block includes
    /// the inclusion blocks.
    #[test]
    fn where_a_transaction_was_mined_is_kept_by_nonce_and_pruned_with_the_nonce_index() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        assert_eq!(s.last_block().unwrap(), None);
        let at = |n: u8| Inclusion {
            tx_hash: TxHash::repeat_byte(n),
            block: 100 + u64::from(n),
            block_hash: [n; 32],
        };
        let mut i = intent("a");
        i.status = IntentStatus::Done {
            tx_hash: Some(TxHash::repeat_byte(1)),
            gas_used: Some(21_000),
        };
        s.put_outcomes(std::slice::from_ref(&i), None, Some((1, &at(1))))
            .unwrap();
        let mut j = intent("b");
        j.status = IntentStatus::Abandoned {
            reason: "reverted".into(),
        };
        s.put_failed(std::slice::from_ref(&j), None, Some((2, &at(2))))
            .unwrap();
        assert_eq!(s.intent("a").unwrap(), Some(i));
        assert_eq!(s.inclusions_from(0).unwrap(), vec![(1, at(1)), (2, at(2))]);
        assert_eq!(s.inclusions_from(2).unwrap(), vec![(2, at(2))]);
        assert_eq!(s.block_hashes(101, 102).unwrap().len(), 2);
        assert_eq!(s.last_block().unwrap(), Some(102));
        s.prune_nonces(2).unwrap();
        assert_eq!(s.inclusions_from(0).unwrap(), vec![(2, at(2))]);
    }

    /// A journal written before the inclusion record existed opens with none recorded.
    #[test]
    fn a_journal_from_before_the_inclusion_record_opens_with_none_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(NONCES).unwrap().insert(7, "a").unwrap();
            txn.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.nonces_from(0).unwrap(), vec![(7, "a".to_string())]);
        assert!(s.inclusions_from(0).unwrap().is_empty());
    }

    #[test]
    fn block_hashes_prune() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        for b in 1..=10u64 {
            s.put_block_hash(b, [b as u8; 32]).unwrap();
        }
        assert_eq!(s.block_hashes(3, 5).unwrap().len(), 3);
        s.prune_blocks(4, Some(8)).unwrap();
        let left: Vec<u64> = s
            .block_hashes(0, 100)
            .unwrap()
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(left, vec![4, 5, 6, 7]);
    }

    #[test]
    fn key_is_deterministic() {
        assert_eq!(
            Intent::key_for(IntentKind::Finalize, "9", "0xAB"),
            "finalize:9:0xab"
        );
    }

    #[test]
    fn outputs_are_stored_by_their_hash_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let hash = {
            let s = Store::open(&path).unwrap();
            let h = s.put_output(b"the answer").unwrap();
            assert_eq!(s.put_output(b"the answer").unwrap(), h, "idempotent");
            h
        };
        let s = Store::open(&path).unwrap();
        assert_eq!(h_of(b"the answer"), hash);
        assert_eq!(
            s.output(&hash).unwrap().as_deref(),
            Some(&b"the answer"[..])
        );
        assert_eq!(s.output(&h_of(b"other")).unwrap(), None);
    }

    fn facts() -> RequestFacts {
        RequestFacts {
            model_id: B256::repeat_byte(1),
            input_hash: B256::repeat_byte(2),
            input_uri: "0x0102".into(),
            deadline: 77,
        }
    }

    fn published_row(id: u64, out: u8) -> PublishedRow {
        PublishedRow {
            request_id: U256::from(id),
            output_hash: B256::repeat_byte(out),
            json: format!("{{\"request\":{id},\"output\":{out}}}").into_bytes(),
        }
    }

    /// A chunk of answers is journaled together: its outputs, its intents (an intent already
    /// journaled is kept as it is) and its published attestations are all there after a reopen;
    /// a chunk the disk refuses leaves none of them.
    #[test]
    fn a_chunk_of_answers_is_journaled_whole_and_a_refused_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let fault = DiskFault::default();
        let mut done = intent("attest:1:0xab");
        done.status = IntentStatus::Done {
            tx_hash: None,
            gas_used: None,
        };
        {
            let s = Store::open_with_disk_fault(&path, fault.clone()).unwrap();
            s.put_intent(&done).unwrap();
            let inserted = s
                .journal_answers(
                    &[b"one", b"two"],
                    &[intent("attest:1:0xab"), intent("attest:2:0xab")],
                    &[published_row(1, 1), published_row(2, 2)],
                )
                .unwrap();
            assert_eq!(inserted, [false, true]);
            fault.set_full(true);
            assert!(matches!(
                s.journal_answers(
                    &[b"three"],
                    &[intent("attest:3:0xab")],
                    &[published_row(3, 3)]
                ),
                Err(StoreError::DiskFull(_))
            ));
        }
        fault.set_full(false);
        let s = Store::open(&path).unwrap();
        let h_of = |b: &[u8]| alloy::primitives::keccak256(b).0;
        for out in [&b"one"[..], b"two"] {
            assert_eq!(s.output(&h_of(out)).unwrap().as_deref(), Some(out));
        }
        assert_eq!(
            s.intent("attest:1:0xab").unwrap(),
            Some(done),
            "kept as it was"
        );
        assert_eq!(
            s.intent("attest:2:0xab").unwrap(),
            Some(intent("attest:2:0xab"))
        );
        assert_eq!(
            s.published(U256::from(2)).unwrap(),
            [published_row(2, 2).json]
        );
        // The refused chunk: nothing of it.
        assert_eq!(s.output(&h_of(b"three")).unwrap(), None);
        assert_eq!(s.intent("attest:3:0xab").unwrap(), None);
        assert!(s.published(U256::from(3)).unwrap().is_empty());
    }

    /// The open index follows every write of an intent: pending and sent intents are listed (in key
    /// order) and counted, done, batched and abandoned ones drop out, whichever write made them so
    /// (durable or deferred, with an inclusion record or not), an intent set pending again (a
    /// re-plan, a request back after a reorg) is listed again, and all of it holds after a reopen.
    #[test]
    fn the_open_intents_follow_every_kind_of_intent_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let with = |key: &str, status: IntentStatus| Intent {
            status,
            ..intent(key)
        };
        let sent = with(
            "attest:2:0xab",
            IntentStatus::Sent {
                nonce: 7,
                tx_hash: TxHash::repeat_byte(7),
                raw: Bytes::from_static(b"raw"),
                all_hashes: vec![TxHash::repeat_byte(7)],
            },
        );
        let keys = |s: &Store| -> Vec<String> {
            s.open_intents()
                .unwrap()
                .into_iter()
                .map(|i| i.key)
                .collect()
        };
        {
            let s = Store::open(&path).unwrap();
            assert!(s.insert_intent_if_absent(&intent("attest:1:0xab")).unwrap());
            s.insert_intents_if_absent(&[intent("attest:2:0xab"), intent("attest:3:0xab")])
                .unwrap();
            s.journal_answers(
                &[],
                &[intent("attest:4:0xab"), intent("attest:5:0xab")],
                &[],
            )
            .unwrap();
            assert_eq!(s.open_count().unwrap(), 5);
            s.put_intent(&sent).unwrap();
            let done = IntentStatus::Done {
                tx_hash: None,
                gas_used: None,
            };
            s.put_intent(&with("attest:1:0xab", done.clone())).unwrap();
            s.put_outcomes(&[with("attest:3:0xab", done)], None, None)
                .unwrap();
            s.put_intents(&[with(
                "attest:4:0xab",
                IntentStatus::Abandoned {
                    reason: "test".into(),
                },
            )])
            .unwrap();
            s.put_intents(&[with(
                "attest:5:0xab",
                IntentStatus::Batched { batch: "b".into() },
            )])
            .unwrap();
            assert_eq!(keys(&s), ["attest:2:0xab"]);
            assert_eq!(s.open_intents().unwrap(), std::slice::from_ref(&sent));
            assert_eq!(s.open_count().unwrap(), 1);
            assert_eq!(s.intents().unwrap().len(), 5, "the journal keeps them all");
            // Open again: the abandoned one re-planned, the batched one back to pending.
            s.put_intents(&[intent("attest:4:0xab"), intent("attest:5:0xab")])
                .unwrap();
            assert_eq!(
                keys(&s),
                ["attest:2:0xab", "attest:4:0xab", "attest:5:0xab"]
            );
            // Closed by the writes that also record where a transaction was mined.
            let at = Inclusion {
                tx_hash: TxHash::repeat_byte(7),
                block: 3,
                block_hash: [3; 32],
            };
            let mined = |key: &str| {
                with(
                    key,
                    IntentStatus::Done {
                        tx_hash: Some(TxHash::repeat_byte(7)),
                        gas_used: Some(1),
                    },
                )
            };
            s.put_outcomes(&[mined("attest:4:0xab")], None, Some((7, &at)))
                .unwrap();
            s.put_failed(&[mined("attest:5:0xab")], None, Some((8, &at)))
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.open_intents().unwrap(), [sent]);
        assert_eq!(s.open_count().unwrap(), 1);
    }

    /// A version 3 journal (no open index) is indexed when opened: its open intents are found, its
    /// closed ones are not.
    #[test]
    fn a_version_3_journal_gets_its_open_intents_indexed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        write_raw(&path, Some(3), &[]);
        {
            let db = Database::open(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(INTENTS).unwrap();
                let done = Intent {
                    status: IntentStatus::Done {
                        tx_hash: None,
                        gas_used: None,
                    },
                    ..intent("attest:0:0xab")
                };
                t.insert("attest:0:0xab", encode(&done).unwrap().as_slice())
                    .unwrap();
            }
            txn.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.intents().unwrap().len(), 2);
        assert_eq!(s.open_intents().unwrap(), [intent("attest:1:0xab")]);
        assert_eq!(s.open_count().unwrap(), 1);
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
    }

    /// What the finalizer's schedules called for is one durable write: the intents journaled (one
    /// already there is left as it was) and the schedules acted on forgotten together.
    #[test]
    fn schedules_acted_on_are_forgotten_in_the_durable_write_that_journals_their_intents() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        let id = U256::from;
        s.change_schedules(&[ScheduleChange::Finalize {
            id: id(1),
            window_end: 10,
        }])
        .unwrap();
        s.watch_deadline(id(2), 20).unwrap();
        let mut earlier = intent("finalize:1:0xab");
        earlier.status = IntentStatus::Done {
            tx_hash: None,
            gas_used: None,
        };
        s.put_intent(&earlier).unwrap();
        let (writes, durable) = (s.write_transactions(), s.durable_writes());
        s.journal_schedules_acted_on(
            &[intent("finalize:1:0xab"), intent("report_missed:2:0xcd")],
            &[
                ScheduleChange::ForgetFinalize(id(1)),
                ScheduleChange::ForgetDeadline(id(2)),
            ],
        )
        .unwrap();
        assert_eq!(s.write_transactions() - writes, 1);
        assert_eq!(s.durable_writes() - durable, 1);
        assert_eq!(
            s.intent("finalize:1:0xab").unwrap(),
            Some(earlier),
            "an intent already journaled is left as it was"
        );
        assert_eq!(
            s.intent("report_missed:2:0xcd").unwrap(),
            Some(intent("report_missed:2:0xcd"))
        );
        assert!(s
            .finalizations_due(u64::MAX, usize::MAX)
            .unwrap()
            .is_empty());
        assert!(s.deadlines_passed(u64::MAX, usize::MAX).unwrap().is_empty());
    }

    /// A version 4 journal (schedules without their time-ordered index) gets the index built on
    /// open, in the migration's one durable write: what is due is found through it.
    #[test]
    fn a_version_4_journal_gets_its_schedules_indexed_by_time_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        write_raw(&path, Some(4), &[]);
        {
            let db = Database::open(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut f = txn.open_table(FINALIZE_DUE).unwrap();
                f.insert(&U256::from(1).to_be_bytes::<32>(), 500).unwrap();
                f.insert(&U256::from(2).to_be_bytes::<32>(), 100).unwrap();
                let mut d = txn.open_table(DEADLINES).unwrap();
                d.insert(&U256::from(3).to_be_bytes::<32>(), 50).unwrap();
            }
            txn.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.finalizations_due(200, usize::MAX).unwrap(),
            [(U256::from(2), 100)]
        );
        assert_eq!(
            s.finalizations_due(u64::MAX, usize::MAX).unwrap(),
            [(U256::from(2), 100), (U256::from(1), 500)]
        );
        assert_eq!(
            s.deadlines_passed(51, usize::MAX).unwrap(),
            [(U256::from(3), 50)]
        );
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
    }

    /// A journal of version 5 whose members a crash left pointing at a batch that had ended (its
    /// end and theirs were separate writes then) has them settled on opening, in the migration's
    /// one write: done by the transaction of the batch that landed, pending and sent alone for a
    /// batch given up or missing (open work again: before, they were never sent, and their
    /// attestations lost); a batch booked done with no transaction of its own proves nothing, so its
    /// members are handed back too. A member of a batch still open (pending or in flight) is left as
    /// it is.
    #[test]
    fn a_version_5_journal_gets_members_stranded_by_an_ended_batch_settled_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        write_raw(&path, Some(5), &[]);
        let landed = TxHash::repeat_byte(4);
        let carried_by = |key: &str, batch: &str| Intent {
            status: IntentStatus::Batched {
                batch: batch.into(),
            },
            ..intent(key)
        };
        let batch = |key: &str, status: IntentStatus, member: &str| Intent {
            status,
            members: vec![member.into()],
            ..intent(key)
        };
        let landed_status = IntentStatus::Done {
            tx_hash: Some(landed),
            gas_used: Some(50_000),
        };
        let given_up = IntentStatus::Abandoned {
            reason: "reverted".into(),
        };
        {
            let db = Database::open(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(INTENTS).unwrap();
                let unproven = IntentStatus::Done {
                    tx_hash: None,
                    gas_used: None,
                };
                let in_flight = IntentStatus::Sent {
                    nonce: 3,
                    tx_hash: TxHash::repeat_byte(5),
                    raw: Bytes::from_static(&[1]),
                    all_hashes: vec![TxHash::repeat_byte(5)],
                };
                for i in [
                    batch("b:landed", landed_status, "m:landed"),
                    carried_by("m:landed", "b:landed"),
                    batch("b:given-up", given_up, "m:given-up"),
                    carried_by("m:given-up", "b:given-up"),
                    carried_by("m:missing", "b:missing"),
                    batch("b:unproven", unproven, "m:unproven"),
                    carried_by("m:unproven", "b:unproven"),
                    batch("b:open", IntentStatus::Pending, "m:open"),
                    carried_by("m:open", "b:open"),
                    batch("b:sent", in_flight, "m:sent"),
                    carried_by("m:sent", "b:sent"),
                ] {
                    t.insert(i.key.as_str(), encode(&i).unwrap().as_slice())
                        .unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        let status = |key: &str| s.intent(key).unwrap().unwrap().status;
        assert!(s.intent("m:landed").unwrap().unwrap().done_by(landed));
        for key in ["m:given-up", "m:missing", "m:unproven"] {
            let m = s.intent(key).unwrap().unwrap();
            assert_eq!(m.status, IntentStatus::Pending, "{key}");
            assert!(m.single_only, "{key} is sent alone");
        }
        for (member, batch) in [("m:open", "b:open"), ("m:sent", "b:sent")] {
            assert_eq!(
                status(member),
                IntentStatus::Batched {
                    batch: batch.into()
                },
                "{member} rides with its batch still open"
            );
        }
        let open: Vec<String> = s
            .open_intents()
            .unwrap()
            .into_iter()
            .map(|i| i.key)
            .collect();
        for key in ["m:given-up", "m:missing", "m:unproven", "b:open", "b:sent"] {
            assert!(
                open.contains(&key.to_string()),
                "{key} is open work: {open:?}"
            );
        }
        assert!(!open.contains(&"m:landed".to_string()), "{open:?}");
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
    }

    /// The finalizer reads only what is due, in time order, through the index every schedule write
    /// keeps in step: a finalization moved to a later window end, or forgotten, and a deadline no
    /// longer watched leave no entry behind; what is not due yet (the end at `now` itself
    /// included) is not read.
    #[test]
    fn only_the_schedules_due_are_read_in_time_order_and_a_moved_or_forgotten_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        let id = U256::from;
        s.change_schedules(&[
            ScheduleChange::Finalize {
                id: id(1),
                window_end: 30,
            },
            ScheduleChange::Finalize {
                id: id(2),
                window_end: 10,
            },
            ScheduleChange::Finalize {
                id: id(3),
                window_end: 20,
            },
            // Moved later: its old end is no longer due.
            ScheduleChange::Finalize {
                id: id(3),
                window_end: 40,
            },
            ScheduleChange::Finalize {
                id: id(4),
                window_end: 15,
            },
            ScheduleChange::ForgetFinalize(id(4)),
        ])
        .unwrap();
        assert_eq!(s.finalizations_due(30, usize::MAX).unwrap(), [(id(2), 10)]);
        assert_eq!(
            s.finalizations_due(31, usize::MAX).unwrap(),
            [(id(2), 10), (id(1), 30)]
        );
        assert_eq!(
            s.finalizations_due(u64::MAX, usize::MAX).unwrap(),
            [(id(2), 10), (id(1), 30), (id(3), 40)]
        );
        assert_eq!(
            s.finalizations_due(u64::MAX, 2).unwrap(),
            [(id(2), 10), (id(1), 30)],
            "a limit takes the earliest"
        );
        s.put_requests(
            &[
                (
                    id(7),
                    RequestFacts {
                        deadline: 70,
                        ..facts()
                    },
                ),
                (
                    id(8),
                    RequestFacts {
                        deadline: 60,
                        ..facts()
                    },
                ),
            ],
            true,
        )
        .unwrap();
        s.watch_deadline(id(9), 65).unwrap();
        s.watch_deadline(id(9), 90).unwrap();
        s.change_schedules(&[ScheduleChange::ForgetDeadline(id(8))])
            .unwrap();
        assert_eq!(s.deadlines_passed(71, usize::MAX).unwrap(), [(id(7), 70)]);
        assert_eq!(
            s.deadlines_passed(u64::MAX, usize::MAX).unwrap(),
            [(id(7), 70), (id(9), 90)]
        );
        // The tables by id agree with their indexes.
        assert_eq!(
            s.finalizations().unwrap(),
            [(id(1), 30), (id(2), 10), (id(3), 40)]
        );
        assert_eq!(s.deadlines().unwrap(), [(id(7), 70), (id(9), 90)]);
    }

    /// The requests of a polled range are recorded together; their deadlines are watched only when
    /// asked (a finalizer's keeper).
    #[test]
    fn the_requests_of_a_range_are_recorded_together_and_their_deadlines_watched_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        let later = RequestFacts {
            deadline: 99,
            ..facts()
        };
        s.put_requests(
            &[(U256::from(1), facts()), (U256::from(2), later.clone())],
            false,
        )
        .unwrap();
        assert_eq!(s.request(U256::from(1)).unwrap(), Some(facts()));
        assert_eq!(s.request(U256::from(2)).unwrap(), Some(later.clone()));
        assert!(s.deadlines().unwrap().is_empty());
        s.put_requests(&[(U256::from(3), later)], true).unwrap();
        assert_eq!(s.deadlines().unwrap(), [(U256::from(3), 99)]);
        s.put_requests(&[], true).unwrap();
    }

    /// A range's schedule changes are applied in their order, a later change of one request over
    /// an earlier one, in one write transaction however many there are; none costs none.
    #[test]
    fn a_ranges_schedule_changes_apply_in_order_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        let ids: Vec<U256> = (1..=3).map(U256::from).collect();
        s.put_requests(
            &ids.iter().map(|&id| (id, facts())).collect::<Vec<_>>(),
            true,
        )
        .unwrap();
        let before = s.write_transactions();
        let mut changes: Vec<ScheduleChange> = (0..500u64)
            .map(|i| ScheduleChange::Finalize {
                id: U256::from(100 + i),
                window_end: i,
            })
            .collect();
        changes.extend([
            ScheduleChange::Finalize {
                id: ids[0],
                window_end: 7,
            },
            ScheduleChange::ForgetFinalize(ids[0]),
            ScheduleChange::ForgetFinalize(ids[1]),
            ScheduleChange::Finalize {
                id: ids[1],
                window_end: 8,
            },
            ScheduleChange::ForgetDeadline(ids[2]),
        ]);
        s.change_schedules(&changes).unwrap();
        assert_eq!(s.write_transactions() - before, 1);
        let due = s.finalizations().unwrap();
        assert_eq!(due.len(), 501);
        assert!(!due.iter().any(|(id, _)| *id == ids[0]));
        assert!(due.contains(&(ids[1], 8)));
        assert_eq!(
            s.deadlines().unwrap(),
            [(ids[0], facts().deadline), (ids[1], facts().deadline)]
        );
        s.change_schedules(&[]).unwrap();
        assert_eq!(s.write_transactions() - before, 1);
    }

    /// Each helper table: written, read back typed, forgotten, and still there after a reopen.
    #[test]
    fn helper_records_live_in_their_own_typed_tables_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let (a, b) = (U256::from(5), U256::MAX);
        let game = GameRecord {
            request: a,
            side: 1,
        };
        let jury = JuryWatch {
            request: a,
            governor: Address::repeat_byte(9),
        };
        {
            let s = Store::open(&path).unwrap();
            s.put_request(a, &facts()).unwrap();
            s.change_schedules(&[
                ScheduleChange::Finalize {
                    id: a,
                    window_end: 100,
                },
                ScheduleChange::Finalize {
                    id: b,
                    window_end: 200,
                },
            ])
            .unwrap();
            s.watch_deadline(b, 300).unwrap();
            s.put_callback(a, true).unwrap();
            s.schedule_delivery(DeliveryStage::Early, a, 10).unwrap();
            s.schedule_delivery(DeliveryStage::Final, a, 20).unwrap();
            s.put_game(b, game).unwrap();
            s.watch_jury(a, &jury).unwrap();
            s.change_schedules(&[ScheduleChange::ForgetFinalize(a)])
                .unwrap();
            s.forget_delivery(DeliveryStage::Early, a).unwrap();
            s.put_intent(&intent("attest:1:0xab")).unwrap(); // durable: all of the above on disk
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.request(a).unwrap(), Some(facts()));
        assert_eq!(s.request(b).unwrap(), None);
        assert_eq!(s.finalizations().unwrap(), [(b, 200)]);
        assert_eq!(s.deadlines().unwrap(), [(b, 300)]);
        assert_eq!(s.callback(a).unwrap(), Some(true));
        assert_eq!(s.callback(b).unwrap(), None);
        assert_eq!(s.deliveries().unwrap(), [(DeliveryStage::Final, a, 20)]);
        assert_eq!(s.game(b).unwrap(), Some(game));
        assert_eq!(s.games().unwrap(), [(b, game)]);
        assert_eq!(s.jury_watches().unwrap(), [(a, jury)]);
        s.forget_game(b).unwrap();
        s.forget_jury(a).unwrap();
        s.forget_callback(a).unwrap();
        s.change_schedules(&[ScheduleChange::ForgetDeadline(b)])
            .unwrap();
        assert!(s.games().unwrap().is_empty() && s.jury_watches().unwrap().is_empty());
        assert!(s.deadlines().unwrap().is_empty() && s.callback(a).unwrap().is_none());
        // Nothing of it in the metadata table: only the version.
        let txn = s.db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        let keys: Vec<String> = meta
            .iter()
            .unwrap()
            .map(|r| r.unwrap().0.value().to_string())
            .collect();
        assert_eq!(keys, [VERSION_KEY]);
    }

    /// The helper records a version 2 keeper wrote, by hand in its format: string-prefixed entries
    /// of the metadata table (zero-padded decimal ids, big-endian times, JSON).
    fn v2_helper_records() -> Vec<(String, Vec<u8>)> {
        let cursor =
            serde_json::to_vec(&serde_json::json!({"block": 42, "hash": ([7u8; 32].to_vec())}));
        vec![
            ("cursor".into(), cursor.unwrap()),
            (
                format!("req:{:0>20}", 5),
                serde_json::to_vec(&facts()).unwrap(),
            ),
            (format!("fin:{:0>20}", 5), 100u64.to_be_bytes().to_vec()),
            (format!("dl:{:0>20}", 6), 300u64.to_be_bytes().to_vec()),
            (format!("cb:{:0>20}", 5), br#"{"early":true}"#.to_vec()),
            (format!("dv:early:{:0>20}", 5), 10u64.to_be_bytes().to_vec()),
            (format!("dv:final:{:0>20}", 6), 20u64.to_be_bytes().to_vec()),
            (
                format!("rg:{:0>78}", U256::from(1) << 255),
                serde_json::to_vec(&serde_json::json!({"request": U256::from(5), "side": 1}))
                    .unwrap(),
            ),
        ]
    }

    /// Writes `meta` entries and `intents` into a fresh database file, and `version` if given.
    fn write_raw(path: &Path, version: Option<u32>, meta: &[(String, Vec<u8>)]) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut m = txn.open_table(META).unwrap();
            for (k, v) in meta {
                m.insert(k.as_str(), v.as_slice()).unwrap();
            }
            if let Some(v) = version {
                m.insert(VERSION_KEY, v.to_be_bytes().as_slice()).unwrap();
            }
            let mut t = txn.open_table(INTENTS).unwrap();
            let i = encode(&intent("attest:1:0xab")).unwrap();
            t.insert("attest:1:0xab", i.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }

    /// The helper records of [`v2_helper_records`], as read from their tables.
    fn assert_v2_helpers_migrated(s: &Store) {
        assert_eq!(
            s.cursor().unwrap(),
            Some(Cursor {
                block: 42,
                hash: [7; 32]
            })
        );
        let (five, six) = (U256::from(5), U256::from(6));
        assert_eq!(s.request(five).unwrap(), Some(facts()));
        assert_eq!(s.finalizations().unwrap(), [(five, 100)]);
        assert_eq!(s.deadlines().unwrap(), [(six, 300)]);
        // Indexed by time in the same migration.
        assert_eq!(s.finalizations_due(101, usize::MAX).unwrap(), [(five, 100)]);
        assert_eq!(s.deadlines_passed(301, usize::MAX).unwrap(), [(six, 300)]);
        assert_eq!(s.callback(five).unwrap(), Some(true));
        let mut dv = s.deliveries().unwrap();
        dv.sort_by_key(|d| d.1);
        assert_eq!(
            dv,
            [
                (DeliveryStage::Early, five, 10),
                (DeliveryStage::Final, six, 20)
            ]
        );
        assert_eq!(
            s.games().unwrap(),
            [(
                U256::from(1) << 255,
                GameRecord {
                    request: five,
                    side: 1
                }
            )]
        );
        let txn = s.db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert_eq!(meta.len().unwrap(), 1, "only the version key is left");
    }

    #[test]
    fn a_version_2_journal_moves_its_helper_records_into_their_tables_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        write_raw(&path, Some(2), &v2_helper_records());
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
        assert_v2_helpers_migrated(&s);
        assert_eq!(s.intents().unwrap(), [intent("attest:1:0xab")]);
        drop(s);
        // Migrated once: a reopen reads version 3 as it is.
        let s = Store::open(&path).unwrap();
        assert_v2_helpers_migrated(&s);
    }

    #[test]
    fn a_version_2_helper_record_that_does_not_parse_is_reported_and_nothing_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let mut meta = v2_helper_records();
        meta.push((format!("fin:{:0>20}", 9), vec![1, 2, 3]));
        write_raw(&path, Some(2), &meta);
        match Store::open(&path) {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, format!("fin:{:0>20}", 9));
                assert!(reason.contains("3 bytes"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // Still version 2 on disk, every helper record where it was.
        let db = Database::create(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let m = txn.open_table(META).unwrap();
        assert_eq!(
            m.get(VERSION_KEY).unwrap().unwrap().value(),
            2u32.to_be_bytes()
        );
        assert_eq!(m.len().unwrap() as usize, meta.len() + 1);
    }

    fn h_of(b: &[u8]) -> [u8; 32] {
        alloy::primitives::keccak256(b).0
    }

    /// Deferred writes are visible at once, and a durable write after them puts them on disk in
    /// the same order: after a reopen both the deferred cursor and metadata and the durable intent
    /// are there.
    #[test]
    fn a_durable_write_persists_the_deferred_writes_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        {
            let s = Store::open(&path).unwrap();
            s.put_request(U256::from(1), &facts()).unwrap();
            s.set_cursor(Cursor {
                block: 9,
                hash: [7u8; 32],
            })
            .unwrap();
            assert_eq!(s.request(U256::from(1)).unwrap(), Some(facts()));
            s.put_intents(&[intent("attest:1:0xop"), intent("attest:2:0xop")])
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.request(U256::from(1)).unwrap(), Some(facts()));
        assert_eq!(s.cursor().unwrap().map(|c| c.block), Some(9));
        assert_eq!(s.intents().unwrap().len(), 2);
    }

    /// Batches formed in a deferred write (nothing signed on them yet) cost no durable write, and
    /// the durable write that journals a batch's transaction puts them on disk first: after a
    /// reopen the members still point to their batch.
    #[test]
    fn batches_formed_in_a_deferred_write_are_on_disk_with_the_next_durable_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let batch_key = "attest_batch:0xb:0xop";
        {
            let s = Store::open(&path).unwrap();
            let mut batch = intent(batch_key);
            batch.members = vec!["attest:1:0xop".into(), "attest:2:0xop".into()];
            let mut formed = vec![batch.clone()];
            for m in &batch.members {
                let mut i = intent(m);
                i.status = IntentStatus::Batched {
                    batch: batch_key.into(),
                };
                formed.push(i);
            }
            let durable = s.durable_writes();
            s.put_intents_deferred(&formed).unwrap();
            assert_eq!(
                s.durable_writes(),
                durable,
                "forming batches waits for no disk"
            );
            assert_eq!(
                s.intent("attest:1:0xop").unwrap().unwrap().status,
                formed[1].status
            );
            batch.status = IntentStatus::Sent {
                nonce: 7,
                tx_hash: TxHash::repeat_byte(1),
                raw: Bytes::from_static(b"raw"),
                all_hashes: vec![TxHash::repeat_byte(1)],
            };
            s.put_intent(&batch).unwrap();
            assert_eq!(s.durable_writes(), durable + 1);
        }
        let s = Store::open(&path).unwrap();
        for m in ["attest:1:0xop", "attest:2:0xop"] {
            assert_eq!(
                s.intent(m).unwrap().unwrap().status,
                IntentStatus::Batched {
                    batch: batch_key.into()
                }
            );
        }
        assert!(matches!(
            s.intent(batch_key).unwrap().unwrap().status,
            IntentStatus::Sent { nonce: 7, .. }
        ));
    }

    /// Writes `records` (key, JSON) into a journal by hand, as a keeper of format version 1 did: no
    /// version key, strings for addresses, hashes, bytes and ids.
    fn write_v1(path: &Path, records: &[(&str, serde_json::Value)]) {
        let db = Database::create(path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(INTENTS).unwrap();
            for (k, v) in records {
                t.insert(*k, serde_json::to_vec(v).unwrap().as_slice())
                    .unwrap();
            }
            let cursor = serde_json::json!({"block": 5, "hash": ([1u8; 32].to_vec())});
            txn.open_table(META)
                .unwrap()
                .insert("cursor", serde_json::to_vec(&cursor).unwrap().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }

    #[test]
    fn a_version_1_journal_is_migrated_to_typed_records_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let h1 = format!("0x{}", "11".repeat(32));
        let h2 = format!("0x{}", "22".repeat(32));
        write_v1(
            &path,
            &[
                (
                    "attest:7:0xop",
                    serde_json::json!({"key": "attest:7:0xop", "kind": "attest", "subject": "7",
                        "to": "0x00000000000000000000000000000000000000aa", "calldata": "0x0102",
                        "status": {"state": "sent", "nonce": 3, "tx_hash": h2, "raw": "0x02f0",
                            "all_hashes": [h1, h2]}}),
                ),
                (
                    "attest_batch:0xb:0xop",
                    serde_json::json!({"key": "attest_batch:0xb:0xop", "kind": "attest",
                        "subject": "attest:8:0xop,attest:9:0xop",
                        "to": "0x00000000000000000000000000000000000000aa", "calldata": "0x",
                        "status": {"state": "done", "tx_hash": h1, "gas_used": 21000},
                        "members": ["attest:8:0xop", "attest:9:0xop"]}),
                ),
                (
                    "deploy",
                    serde_json::json!({"key": "deploy", "kind": "call", "subject": "", "to": "",
                        "calldata": "0x6080", "status": {"state": "pending"}, "single_only": true}),
                ),
            ],
        );
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
        let hash = |b: u8| TxHash::repeat_byte(b);
        let att = s.intent("attest:7:0xop").unwrap().unwrap();
        assert_eq!(att.subject, Some(U256::from(7)));
        assert_eq!(att.to, Some(Address::with_last_byte(0xaa)));
        assert_eq!(att.calldata, Bytes::from(vec![1, 2]));
        assert_eq!(
            att.status,
            IntentStatus::Sent {
                nonce: 3,
                tx_hash: hash(0x22),
                raw: Bytes::from(vec![0x02, 0xf0]),
                all_hashes: vec![hash(0x11), hash(0x22)],
            }
        );
        let batch = s.intent("attest_batch:0xb:0xop").unwrap().unwrap();
        assert_eq!(
            batch.subject, None,
            "a batch's joined member keys are no id"
        );
        assert_eq!(batch.members, ["attest:8:0xop", "attest:9:0xop"]);
        assert_eq!(
            batch.status,
            IntentStatus::Done {
                tx_hash: Some(hash(0x11)),
                gas_used: Some(21000)
            }
        );
        let deploy = s.intent("deploy").unwrap().unwrap();
        assert_eq!((deploy.to, deploy.subject), (None, None));
        assert!(deploy.single_only);
        assert_eq!(
            s.cursor().unwrap().map(|c| c.block),
            Some(5),
            "helper records moved too"
        );
        drop(s);
        // Migrated once: a reopen reads the current version as it is.
        let s = Store::open(&path).unwrap();
        assert_eq!(s.intent("attest:7:0xop").unwrap().unwrap(), att);
    }

    #[test]
    fn a_version_1_record_that_does_not_parse_is_reported_and_nothing_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        write_v1(
            &path,
            &[(
                "call:1",
                serde_json::json!({"key": "call:1", "kind": "call", "subject": "1",
                    "to": "not an address", "calldata": "0x", "status": {"state": "pending"}}),
            )],
        );
        match Store::open(&path) {
            Err(StoreError::Corrupt { key, reason }) => {
                assert_eq!(key, "call:1");
                assert!(reason.contains("address"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // Still version 1 on disk: no half-migrated journal.
        let db = Database::create(&path).unwrap();
        let txn = db.begin_read().unwrap();
        let meta = txn.open_table(META).unwrap();
        assert!(meta.get(VERSION_KEY).unwrap().is_none());
    }

    #[test]
    fn a_journal_of_an_unknown_version_is_refused_with_the_version_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        {
            let s = Store::open(&path).unwrap();
            s.put_intent(&intent("attest:1:0xab")).unwrap();
            s.put_meta(VERSION_KEY, &99u32.to_be_bytes()).unwrap();
            s.put_intent(&intent("attest:2:0xab")).unwrap(); // durable: the version is on disk
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::UnsupportedJournalVersion {
                    found: 99,
                    supported: JOURNAL_VERSION
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("version 99"), "{err}");
    }

    #[test]
    fn a_new_journal_records_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("k.redb")).unwrap();
        assert_eq!(
            s.get_meta(VERSION_KEY).unwrap().as_deref(),
            Some(&JOURNAL_VERSION.to_be_bytes()[..])
        );
    }

    /// A full disk: the refused write fails with the typed [`StoreError::DiskFull`] (from the OS's
    /// `ENOSPC`, not a message), and after space returns the journal holds everything written before
    /// it and nothing of the refused write.
    #[test]
    fn a_full_disk_refuses_a_journal_write_with_disk_full_and_loses_nothing_written_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.redb");
        let fault = DiskFault::default();
        {
            let s = Store::open_with_disk_fault(&path, fault.clone()).unwrap();
            s.put_intent(&intent("attest:1:0xab")).unwrap();
            fault.set_full(true);
            match s.put_intent(&intent("attest:2:0xab")) {
                Err(StoreError::DiskFull(msg)) => {
                    assert!(msg.to_lowercase().contains("space"), "{msg}")
                }
                other => panic!("{other:?}"),
            }
        }
        fault.set_full(false);
        let s = Store::open(&path).unwrap();
        let keys: Vec<String> = s.intents().unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["attest:1:0xab"]);
    }
}
