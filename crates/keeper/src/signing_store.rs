//! The slashing-protection store that lets two or more keeper replicas of one operator run without
//! ever double-signing (docs/keeper.md, "High availability").
//!
//! Every attestation an operator's hot key signs is first **claimed** in a shared PostgreSQL table:
//! one row per `(chain id, registry, operator, request digest)` (the request digest binds the id,
//! the model and the input, [`attest::request_digest`], so an id reused after a reorg is a new
//! slot). The row is inserted with `INSERT ... ON CONFLICT DO NOTHING`: the database's unique key
//! decides which replica's output is *the* output of that slot, whatever the timing. A replica
//! signs its statement in memory and claims the slot with output and signature in one insert; the
//! signature leaves the process (journal, gossip, transaction) only once its claim is the one of
//! record. A replica that computed the same output gets the same attestation (the stored signature,
//! checked); a replica that computed a **different** output is refused
//! ([`SigningStoreError::Conflict`]), drops its own signature unused and adopts the stored
//! statement instead ([`sign_once`]).
//!
//! Concurrent claims, and concurrent lookups, of one store go to the database as one statement each
//! ([`coalesce`]): a keeper answering a log range asks for all its answers' slots at once, one round
//! trip and one commit for many.
//!
//! The store is fail-closed: when the database cannot be reached within the timeout nothing is
//! signed; the keeper retries the assignment later. A single keeper without `[signing_store]` keeps
//! using only its embedded journal ([`crate::store`]).

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::sol_types::Eip712Domain;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Statement};

use crate::attest::{self, Attestation, HotKey, KeyError};
use crate::config::ConfigError;

mod coalesce;

use coalesce::{Coalescer, Run};

/// The most claims (or lookups) one statement carries; more queued calls wait for the next one.
pub const MAX_BATCH: usize = 128;

/// The table every replica of every operator shares (created on first connection).
pub const TABLE: &str = "verinfer_signed_attestations";

/// The schema, as created on first connection (idempotent; serialized by an advisory lock so two
/// replicas starting together do not race on `CREATE TABLE`).
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS verinfer_signed_attestations (
    chain_id       BIGINT      NOT NULL,
    registry       BYTEA       NOT NULL,
    operator       BYTEA       NOT NULL,
    request_digest BYTEA       NOT NULL,
    request_id     TEXT        NOT NULL,
    output_hash    BYTEA       NOT NULL,
    output         BYTEA       NOT NULL,
    signature      BYTEA,
    replica        TEXT        NOT NULL,
    claimed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, registry, operator, request_digest)
)";

/// The sender lease: which replica may send the operator's transactions (one row per chain and
/// operator; created with [`SCHEMA`]). A liveness device, not a safety one: signing is guarded by
/// the claims alone, and two replicas that both believe they hold the lease (a paused process, a
/// skewed clock) cost gas and nonce resyncs, never an equivocation.
pub const LEASE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS verinfer_sender_leases (
    chain_id   BIGINT      NOT NULL,
    operator   BYTEA       NOT NULL,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    epoch      BIGINT      NOT NULL,
    PRIMARY KEY (chain_id, operator)
)";

/// Advisory lock key serializing schema creation (`"verinfer"` as an integer).
const SCHEMA_LOCK: i64 = 0x7665_7269_6e66_6572;

/// `[signing_store]` as written in keeper.toml.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSigningStoreConfig {
    /// `postgres://user[:password]@host[:port]/database` (the password may instead come from
    /// `VERINFER_SIGNING_STORE_URL`; it is never echoed).
    pub postgres_url: Option<String>,
    /// This replica's name, recorded with its claims (default `keeper`).
    pub replica: Option<String>,
    /// Bound on every database call, milliseconds (default 2000, 100..=60000).
    pub timeout_ms: Option<u64>,
    /// How long the sender lease lasts without renewal, milliseconds (default 4000,
    /// 500..=60000, and more than 1.5 x `timeout_ms` so a renewal can answer before it lapses).
    pub sender_lease_ms: Option<u64>,
}

/// Validated `[signing_store]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningStoreConfig {
    /// The connection URL (may hold a password: shown only through [`redact_url`]).
    pub postgres_url: String,
    /// This replica's name (1..=64 characters).
    pub replica: String,
    /// Bound on every database call.
    pub timeout: Duration,
    /// How long the sender lease lasts without renewal ([`SigningStore::hold_lease`]).
    pub sender_lease: Duration,
}

impl std::fmt::Debug for SigningStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningStoreConfig")
            .field("postgres_url", &redact_url(&self.postgres_url))
            .field("replica", &self.replica)
            .field("timeout", &self.timeout)
            .field("sender_lease", &self.sender_lease)
            .finish()
    }
}

impl RawSigningStoreConfig {
    /// Validates the section; errors name the field and never echo the URL's password.
    pub fn validate(self) -> Result<SigningStoreConfig, ConfigError> {
        let url = self.postgres_url.ok_or(ConfigError::Missing {
            field: "signing_store.postgres_url",
            env: "VERINFER_SIGNING_STORE_URL",
        })?;
        let parsed: tokio_postgres::Config = url.parse().map_err(|_| ConfigError::Invalid {
            field: "signing_store.postgres_url".into(),
            reason: format!(
                "`{}` is not a PostgreSQL connection URL (postgres://user@host:port/database)",
                redact_url(&url)
            ),
        })?;
        if parsed.get_hosts().is_empty() {
            return Err(ConfigError::Invalid {
                field: "signing_store.postgres_url".into(),
                reason: format!("`{}` names no host", redact_url(&url)),
            });
        }
        let replica = self.replica.unwrap_or_else(|| "keeper".into());
        if replica.is_empty() || replica.chars().count() > 64 {
            return Err(ConfigError::Invalid {
                field: "signing_store.replica".into(),
                reason: "must be 1..=64 characters".into(),
            });
        }
        let timeout_ms = self.timeout_ms.unwrap_or(2_000);
        if !(100..=60_000).contains(&timeout_ms) {
            return Err(ConfigError::Invalid {
                field: "signing_store.timeout_ms".into(),
                reason: format!("{timeout_ms} not in 100..=60000"),
            });
        }
        let lease_ms = self.sender_lease_ms.unwrap_or(4_000);
        if !(500..=60_000).contains(&lease_ms) {
            return Err(ConfigError::Invalid {
                field: "signing_store.sender_lease_ms".into(),
                reason: format!("{lease_ms} not in 500..=60000"),
            });
        }
        // The holder stops sending 2/3 of a lease after its last renewal was sent: a renewal that
        // takes the whole database timeout must still leave it time to send.
        if lease_ms * 2 <= timeout_ms * 3 {
            return Err(ConfigError::Invalid {
                field: "signing_store.sender_lease_ms".into(),
                reason: format!(
                    "{lease_ms} must exceed 1.5 x signing_store.timeout_ms ({timeout_ms})"
                ),
            });
        }
        Ok(SigningStoreConfig {
            postgres_url: url,
            replica,
            timeout: Duration::from_millis(timeout_ms),
            sender_lease: Duration::from_millis(lease_ms),
        })
    }
}

impl SigningStore {
    /// The store `cfg` describes (connects lazily).
    pub fn from_config(cfg: &SigningStoreConfig) -> Self {
        Self::new(&cfg.postgres_url, &cfg.replica, cfg.timeout)
    }
}

/// Errors of the signing store.
#[derive(Debug, thiserror::Error)]
pub enum SigningStoreError {
    /// Another replica already claimed this request with a different output: signing ours would be
    /// an equivocation. `claimed` is the statement of record (use it instead).
    #[error("request {request} of operator {operator} is already claimed with output {} by replica {}; refusing to sign output {ours}", claimed.output_hash, claimed.replica)]
    Conflict {
        /// The operator.
        operator: Address,
        /// The request id.
        request: U256,
        /// The output hash this replica wanted to sign.
        ours: B256,
        /// The claim of record.
        claimed: Box<ClaimedStatement>,
    },
    /// The database could not be reached or refused a statement (the URL's password is never part
    /// of this message).
    #[error("signing store unavailable during {op}: {msg}")]
    Unavailable {
        /// The operation.
        op: &'static str,
        /// The driver's message.
        msg: String,
    },
    /// The database did not answer within the configured timeout.
    #[error("signing store did not answer {op} within {timeout:?}")]
    Timeout {
        /// The operation.
        op: &'static str,
        /// The timeout.
        timeout: Duration,
    },
    /// A stored row is malformed or its signature is not the operator hot key's.
    #[error("corrupt signing-store row for request {request}: {reason}")]
    Corrupt {
        /// The request id.
        request: U256,
        /// What is wrong.
        reason: String,
    },
    /// The chain id does not fit the schema's BIGINT.
    #[error("chain id {0} does not fit the signing store's BIGINT column")]
    ChainId(u64),
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Which signed statement a row is about: the deployment (chain id + registry), the operator and
/// the request's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The chain id.
    pub chain_id: u64,
    /// The InferenceRegistry.
    pub registry: Address,
    /// The operator.
    pub operator: Address,
    /// The request id (the reusable counter).
    pub request_id: U256,
    /// [`attest::request_digest`] of the request (its identity).
    pub request_digest: B256,
}

impl Slot {
    /// The slot of `att` on the registry at `registry` on `chain_id`.
    pub fn of(chain_id: u64, registry: Address, att: &Attestation) -> Self {
        Self {
            chain_id,
            registry,
            operator: att.operator,
            request_id: att.requestId,
            request_digest: attest::request_digest(att.requestId, att.modelId, att.inputHash),
        }
    }
}

/// The statement of record of a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedStatement {
    /// keccak256 of `output`.
    pub output_hash: B256,
    /// The output bytes (so the replica that adopts the statement can serve them).
    pub output: Vec<u8>,
    /// The 65-byte signature, once the claiming replica recorded it.
    pub signature: Option<Bytes>,
    /// The replica that claimed it.
    pub replica: String,
}

/// The outcome of a successful [`SigningStore::claim`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This call inserted the row: its output is the statement of record.
    Won,
    /// The slot was already claimed with the same output (by another replica, or by this one
    /// before a restart); `signature` is set once it was recorded.
    Same {
        /// The stored signature, if any.
        signature: Option<Bytes>,
    },
}

/// A connection to the shared store. Cheap to share (`Arc`); reconnects after the database restarts
/// or the connection drops; every call is bounded by the timeout.
pub struct SigningStore {
    db: Arc<Db>,
    /// This process's id as a lease holder: the replica's name and a random suffix drawn at start,
    /// so two processes configured with one name never both hold the lease.
    holder_id: String,
    /// Concurrent [`SigningStore::statement`] calls, one `SELECT` per batch.
    lookups: Coalescer<Slot, Option<ClaimedStatement>>,
    /// Concurrent claims, one `INSERT` (one commit) per batch.
    claims: Coalescer<NewClaim, bool>,
}

/// The connection side of a [`SigningStore`], shared with its coalescers' driver tasks.
struct Db {
    url: String,
    replica: String,
    timeout: Duration,
    client: Mutex<Option<Arc<Conn>>>,
}

/// A claim as queued: the slot, the output bytes and, when signed before the claim, the signature.
struct NewClaim {
    slot: Slot,
    output: Vec<u8>,
    signature: Option<Bytes>,
}

/// A live connection and the statements prepared on it. A statement sent as text is parsed and
/// planned on every call, one round trip more; each of the store's statements is prepared once per
/// connection instead (a reconnect prepares them again).
struct Conn {
    client: Client,
    prepared: std::sync::Mutex<std::collections::HashMap<&'static str, Statement>>,
}

impl Conn {
    /// `sql`, prepared on this connection (once).
    async fn prepared(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(st) = self.cache().get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).await?;
        self.cache().insert(sql, st.clone());
        Ok(st)
    }

    fn cache(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<&'static str, Statement>> {
        self.prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::fmt::Debug for SigningStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningStore")
            .field("url", &redact_url(&self.db.url))
            .field("replica", &self.db.replica)
            .finish_non_exhaustive()
    }
}

/// `url` with its password (if any) replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

fn unavailable(op: &'static str) -> impl Fn(tokio_postgres::Error) -> SigningStoreError {
    move |e| SigningStoreError::Unavailable {
        op,
        msg: e.to_string(),
    }
}

/// A number drawn once per store: the process id and the time, hashed with the standard library's
/// randomly keyed hasher (two processes, or two stores of one process, get different numbers).
fn process_nonce() -> u64 {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::collections::hash_map::RandomState::new().hash_one((std::process::id(), nanos))
}

fn chain_id_col(chain_id: u64) -> Result<i64, SigningStoreError> {
    i64::try_from(chain_id).map_err(|_| SigningStoreError::ChainId(chain_id))
}

impl Db {
    async fn bounded<T, F>(&self, op: &'static str, f: F) -> Result<T, SigningStoreError>
    where
        F: std::future::Future<Output = Result<T, SigningStoreError>>,
    {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r,
            Err(_) => Err(SigningStoreError::Timeout {
                op,
                timeout: self.timeout,
            }),
        }
    }

    /// The live client, connecting (and creating the schema) when there is none or the last one
    /// closed.
    async fn client(&self) -> Result<Arc<Conn>, SigningStoreError> {
        let mut guard = self.client.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        *guard = None;
        let (client, connection) = self
            .bounded("connect", async {
                tokio_postgres::connect(&self.url, NoTls)
                    .await
                    .map_err(unavailable("connect"))
            })
            .await?;
        let replica = self.replica.clone();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(%replica, error = %e, "signing store connection closed");
            }
        });
        self.bounded("create schema", async {
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA}; {LEASE_SCHEMA}; COMMIT;"
                ))
                .await
                .map_err(unavailable("create schema"))
        })
        .await?;
        let client = Arc::new(Conn {
            client,
            prepared: std::sync::Mutex::default(),
        });
        *guard = Some(client.clone());
        Ok(client)
    }

    /// Runs `f` on the live client; a failure drops the client so the next call reconnects.
    async fn with_client<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, SigningStoreError>
    where
        F: FnOnce(Arc<Conn>) -> Fut,
        Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let client = self.client().await?;
        let r = self
            .bounded(op, async { f(client).await.map_err(unavailable(op)) })
            .await;
        if matches!(
            r,
            Err(SigningStoreError::Unavailable { .. } | SigningStoreError::Timeout { .. })
        ) {
            *self.client.lock().await = None;
        }
        r
    }

    /// Inserts the claims `reqs` in one statement (one commit); per claim, whether this statement
    /// inserted its row. Of two claims of one slot in one batch only the first is inserted: the
    /// second is answered "not inserted" and resolved against the row of record like any claim
    /// that conflicted.
    async fn insert_claims(&self, reqs: Vec<NewClaim>) -> Vec<Result<bool, SigningStoreError>> {
        let mut results: Vec<Option<Result<bool, SigningStoreError>>> =
            reqs.iter().map(|_| None).collect();
        let mut first = std::collections::HashSet::new();
        let mut rows = Vec::new();
        let mut duplicates = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            match chain_id_col(r.slot.chain_id) {
                Err(e) => results[i] = Some(Err(e)),
                Ok(chain) if first.insert(SlotKey::of(chain, &r.slot)) => rows.push((i, chain)),
                Ok(_) => duplicates.push(i),
            }
        }
        let inserted = if rows.is_empty() {
            Ok(std::collections::HashSet::new())
        } else {
            let col = |f: fn(&NewClaim) -> &[u8]| -> Vec<&[u8]> {
                rows.iter().map(|(i, _)| f(&reqs[*i])).collect()
            };
            let chains: Vec<i64> = rows.iter().map(|(_, c)| *c).collect();
            let registries = col(|r| r.slot.registry.as_slice());
            let operators = col(|r| r.slot.operator.as_slice());
            let digests = col(|r| r.slot.request_digest.as_slice());
            let ids: Vec<String> = rows
                .iter()
                .map(|(i, _)| reqs[*i].slot.request_id.to_string())
                .collect();
            let hashes: Vec<B256> = rows
                .iter()
                .map(|(i, _)| keccak256(&reqs[*i].output))
                .collect();
            let hashes: Vec<&[u8]> = hashes.iter().map(|h| h.as_slice()).collect();
            let outputs = col(|r| r.output.as_slice());
            let signatures: Vec<Option<&[u8]>> = rows
                .iter()
                .map(|(i, _)| reqs[*i].signature.as_ref().map(|s| s.as_ref()))
                .collect();
            self.with_client("claim", |c| async move {
                c.query(
                    &c.prepared("INSERT INTO verinfer_signed_attestations \
                     (chain_id, registry, operator, request_digest, request_id, output_hash, output, signature, replica) \
                     SELECT c, r, o, d, i, h, x, s, $9 \
                     FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[], $5::TEXT[], $6::BYTEA[], $7::BYTEA[], $8::BYTEA[]) \
                     AS t(c, r, o, d, i, h, x, s) \
                     ON CONFLICT DO NOTHING \
                     RETURNING chain_id, registry, operator, request_digest").await?,
                    &[&chains, &registries, &operators, &digests, &ids, &hashes, &outputs, &signatures, &self.replica],
                )
                .await
            })
            .await
            .map(|returned| {
                returned
                    .iter()
                    .filter_map(|row| {
                        Some(SlotKey {
                            chain: row.try_get(0).ok()?,
                            registry: row.try_get(1).ok()?,
                            operator: row.try_get(2).ok()?,
                            digest: row.try_get(3).ok()?,
                        })
                    })
                    .collect::<std::collections::HashSet<_>>()
            })
        };
        match inserted {
            Ok(inserted) => {
                for (i, chain) in rows {
                    results[i] = Some(Ok(inserted.contains(&SlotKey::of(chain, &reqs[i].slot))));
                }
                for i in duplicates {
                    results[i] = Some(Ok(false));
                }
            }
            Err(e) => {
                for i in rows.into_iter().map(|(i, _)| i).chain(duplicates) {
                    results[i] = Some(Err(e.for_each_caller()));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Ok(false)))
            .collect()
    }

    /// The statements of record of `slots` in one `SELECT`, in order (`None`: not claimed).
    async fn read_statements(
        &self,
        slots: Vec<Slot>,
    ) -> Vec<Result<Option<ClaimedStatement>, SigningStoreError>> {
        let mut results: Vec<Result<Option<ClaimedStatement>, SigningStoreError>> =
            slots.iter().map(|_| Ok(None)).collect();
        let mut asked = Vec::new();
        for (i, slot) in slots.iter().enumerate() {
            match chain_id_col(slot.chain_id) {
                Ok(chain) => asked.push((i, chain)),
                Err(e) => results[i] = Err(e),
            }
        }
        if asked.is_empty() {
            return results;
        }
        let chains: Vec<i64> = asked.iter().map(|(_, c)| *c).collect();
        let col = |f: fn(&Slot) -> &[u8]| -> Vec<&[u8]> {
            asked.iter().map(|(i, _)| f(&slots[*i])).collect()
        };
        let registries = col(|s| s.registry.as_slice());
        let operators = col(|s| s.operator.as_slice());
        let digests = col(|s| s.request_digest.as_slice());
        let rows = self
            .with_client("read claim", |c| async move {
                c.query(
                    &c.prepared("SELECT s.n, t.output_hash, t.output, t.signature, t.replica \
                     FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[]) WITH ORDINALITY AS s(c, r, o, d, n) \
                     JOIN verinfer_signed_attestations t \
                     ON t.chain_id = s.c AND t.registry = s.r AND t.operator = s.o AND t.request_digest = s.d").await?,
                    &[&chains, &registries, &operators, &digests],
                )
                .await
            })
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                for (i, _) in &asked {
                    results[*i] = Err(e.for_each_caller());
                }
                return results;
            }
        };
        for row in rows {
            // `n` numbers the asked slots from 1.
            let Some(i) = row
                .try_get::<_, i64>(0)
                .ok()
                .and_then(|n| usize::try_from(n).ok()?.checked_sub(1))
                .and_then(|k| asked.get(k))
                .map(|(i, _)| *i)
            else {
                continue;
            };
            results[i] = statement_of(&row, slots[i].request_id).map(Some);
        }
        results
    }
}

/// The unique key of a slot's row.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SlotKey {
    chain: i64,
    registry: Vec<u8>,
    operator: Vec<u8>,
    digest: Vec<u8>,
}

impl SlotKey {
    fn of(chain: i64, slot: &Slot) -> Self {
        Self {
            chain,
            registry: slot.registry.to_vec(),
            operator: slot.operator.to_vec(),
            digest: slot.request_digest.to_vec(),
        }
    }
}

/// A stored row (`output_hash, output, signature, replica` from column 1 on), checked: the output
/// hashes to `output_hash`.
fn statement_of(
    row: &tokio_postgres::Row,
    request: U256,
) -> Result<ClaimedStatement, SigningStoreError> {
    let corrupt = |reason: &str| SigningStoreError::Corrupt {
        request,
        reason: reason.into(),
    };
    let hash: Vec<u8> = row.try_get(1).map_err(|_| corrupt("output_hash"))?;
    let output: Vec<u8> = row.try_get(2).map_err(|_| corrupt("output"))?;
    let signature: Option<Vec<u8>> = row.try_get(3).map_err(|_| corrupt("signature"))?;
    let replica: String = row.try_get(4).map_err(|_| corrupt("replica"))?;
    let output_hash = B256::try_from(hash.as_slice()).map_err(|_| corrupt("output_hash"))?;
    if keccak256(&output) != output_hash {
        return Err(corrupt("output does not hash to output_hash"));
    }
    Ok(ClaimedStatement {
        output_hash,
        output,
        signature: signature.map(Bytes::from),
        replica,
    })
}

impl SigningStoreError {
    /// This error once more, for each caller of a statement that several callers shared (a
    /// database error is every caller's error).
    fn for_each_caller(&self) -> Self {
        match self {
            Self::Unavailable { op, msg } => Self::Unavailable {
                op,
                msg: msg.clone(),
            },
            Self::Timeout { op, timeout } => Self::Timeout {
                op,
                timeout: *timeout,
            },
            other => Self::Unavailable {
                op: "batched statement",
                msg: other.to_string(),
            },
        }
    }
}

impl SigningStore {
    /// A store at `url` (`postgres://user[:password]@host[:port]/db`) for the replica named
    /// `replica` (recorded with its claims, for the operator's audit). Connects lazily.
    pub fn new(url: &str, replica: &str, timeout: Duration) -> Self {
        let db = Arc::new(Db {
            url: url.to_string(),
            replica: replica.to_string(),
            timeout,
            client: Mutex::new(None),
        });
        let lookups: Run<Slot, Option<ClaimedStatement>> = {
            let db = db.clone();
            Arc::new(move |slots| {
                let db = db.clone();
                Box::pin(async move { db.read_statements(slots).await })
            })
        };
        let claims: Run<NewClaim, bool> = {
            let db = db.clone();
            Arc::new(move |reqs| {
                let db = db.clone();
                Box::pin(async move { db.insert_claims(reqs).await })
            })
        };
        Self {
            db,
            holder_id: format!("{replica}/{:016x}", process_nonce()),
            lookups: Coalescer::new("read claim", MAX_BATCH, lookups),
            claims: Coalescer::new("claim", MAX_BATCH, claims),
        }
    }

    /// This replica's name.
    pub fn replica(&self) -> &str {
        &self.db.replica
    }

    /// This process's id as a lease holder (`<replica>/<random>`).
    pub fn holder_id(&self) -> &str {
        &self.holder_id
    }

    /// Connects now (and creates the schema) instead of on the first claim, so a keeper reports an
    /// unreachable or misconfigured store at startup.
    pub async fn connect(&self) -> Result<(), SigningStoreError> {
        self.db.client().await.map(|_| ())
    }

    async fn with_client<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, SigningStoreError>
    where
        F: FnOnce(Arc<Conn>) -> Fut,
        Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    {
        self.db.with_client(op, f).await
    }

    /// Takes or renews the sender lease of `operator` on `chain_id` for `ttl`, in one atomic upsert
    /// timed by the database's clock: the row is written when it is absent, already this process's,
    /// or lapsed (`expires_at` in the past); its epoch grows by one whenever the holder changes.
    /// Otherwise another process holds it and is named.
    pub async fn hold_lease(
        &self,
        chain_id: u64,
        operator: Address,
        ttl: Duration,
    ) -> Result<LeaseHolder, SigningStoreError> {
        let chain = chain_id_col(chain_id)?;
        let secs = ttl.as_secs_f64();
        let ours = self
            .with_client("hold lease", |c| async move {
                c.query_opt(
                    &c.prepared("INSERT INTO verinfer_sender_leases AS l (chain_id, operator, holder, expires_at, epoch) \
                     VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4), 1) \
                     ON CONFLICT (chain_id, operator) DO UPDATE \
                     SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, \
                     epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END \
                     WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp() \
                     RETURNING epoch").await?,
                    &[&chain, &operator.as_slice(), &self.holder_id, &secs],
                )
                .await
            })
            .await?;
        if let Some(row) = ours {
            let epoch: i64 = row.try_get(0).map_err(|_| SigningStoreError::Unavailable {
                op: "hold lease",
                msg: "the lease row has no epoch".into(),
            })?;
            return Ok(LeaseHolder::Us { epoch });
        }
        let holder = self
            .with_client("read lease", |c| async move {
                c.query_opt(
                    &c.prepared("SELECT holder FROM verinfer_sender_leases WHERE chain_id = $1 AND operator = $2").await?,
                    &[&chain, &operator.as_slice()],
                )
                .await
            })
            .await?
            .and_then(|row| row.try_get::<_, String>(0).ok());
        Ok(LeaseHolder::Other(holder))
    }

    /// Gives up the sender lease of `operator` on `chain_id` if this process holds it (a clean
    /// shutdown): it lapses at once (the row and its epoch stay), so another replica takes over at
    /// its next attempt instead of after the lease would have lapsed. Returns whether a lease was
    /// given up.
    pub async fn release_lease(
        &self,
        chain_id: u64,
        operator: Address,
    ) -> Result<bool, SigningStoreError> {
        let chain = chain_id_col(chain_id)?;
        let n = self
            .with_client("release lease", |c| async move {
                c.execute(
                    &c.prepared(
                        "UPDATE verinfer_sender_leases \
                     SET expires_at = clock_timestamp() - interval '1 second' \
                     WHERE chain_id = $1 AND operator = $2 AND holder = $3 \
                     AND expires_at >= clock_timestamp()",
                    )
                    .await?,
                    &[&chain, &operator.as_slice(), &self.holder_id],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    /// Claims `slot` for `output` in one atomic `INSERT ... ON CONFLICT DO NOTHING`. Exactly one
    /// claim of a slot wins ([`Claim::Won`]); later claims of the same output get [`Claim::Same`],
    /// of a different output [`SigningStoreError::Conflict`] with the statement of record.
    /// Concurrent claims of this store share one statement.
    pub async fn claim(&self, slot: &Slot, output: &[u8]) -> Result<Claim, SigningStoreError> {
        self.claim_as(slot, output, None).await
    }

    /// [`SigningStore::claim`] with the hot key's signature of the statement stored in the same
    /// insert (signed in memory before the claim, released only if it wins: [`sign_once`]).
    pub async fn claim_signed(
        &self,
        slot: &Slot,
        output: &[u8],
        signature: &Bytes,
    ) -> Result<Claim, SigningStoreError> {
        self.claim_as(slot, output, Some(signature.clone())).await
    }

    async fn claim_as(
        &self,
        slot: &Slot,
        output: &[u8],
        signature: Option<Bytes>,
    ) -> Result<Claim, SigningStoreError> {
        let output_hash = keccak256(output);
        let inserted = self
            .db
            .bounded(
                "claim",
                self.claims.call(NewClaim {
                    slot: *slot,
                    output: output.to_vec(),
                    signature,
                }),
            )
            .await?;
        if inserted {
            return Ok(Claim::Won);
        }
        // A separate statement: under READ COMMITTED it sees the row the conflicting claim committed.
        let claimed = self
            .statement(slot)
            .await?
            .ok_or_else(|| SigningStoreError::Corrupt {
                request: slot.request_id,
                reason: "claim conflicted but no row is stored".into(),
            })?;
        if claimed.output_hash == output_hash {
            Ok(Claim::Same {
                signature: claimed.signature,
            })
        } else {
            Err(SigningStoreError::Conflict {
                operator: slot.operator,
                request: slot.request_id,
                ours: output_hash,
                claimed: Box::new(claimed),
            })
        }
    }

    /// The statement of record of `slot`, if claimed. Concurrent lookups of this store share one
    /// statement.
    pub async fn statement(
        &self,
        slot: &Slot,
    ) -> Result<Option<ClaimedStatement>, SigningStoreError> {
        self.db
            .bounded("read claim", self.lookups.call(*slot))
            .await
    }

    /// Records the signature of the claimed statement of `slot` (only for the stored output hash,
    /// only once: a recorded signature is never overwritten). Returns the signature of record.
    pub async fn record_signature(
        &self,
        slot: &Slot,
        output_hash: B256,
        signature: &Bytes,
    ) -> Result<Bytes, SigningStoreError> {
        let chain = chain_id_col(slot.chain_id)?;
        let updated = self
            .with_client("record signature", |c| async move {
                c.execute(
                    &c.prepared("UPDATE verinfer_signed_attestations SET signature = $6 \
                     WHERE chain_id = $1 AND registry = $2 AND operator = $3 AND request_digest = $4 \
                     AND output_hash = $5 AND signature IS NULL").await?,
                    &[
                        &chain,
                        &slot.registry.as_slice(),
                        &slot.operator.as_slice(),
                        &slot.request_digest.as_slice(),
                        &output_hash.as_slice(),
                        &signature.as_ref(),
                    ],
                )
                .await
            })
            .await?;
        if updated == 1 {
            return Ok(signature.clone());
        }
        match self.statement(slot).await? {
            Some(ClaimedStatement {
                output_hash: h,
                signature: Some(s),
                ..
            }) if h == output_hash => Ok(s),
            _ => Err(SigningStoreError::Corrupt {
                request: slot.request_id,
                reason: "signature recorded for an output that is not the claimed one".into(),
            }),
        }
    }
}

/// Who holds an operator's sender lease, as [`SigningStore::hold_lease`] left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseHolder {
    /// This process: it may send until the lease lapses unrenewed. `epoch` counts the changes of
    /// holder: the same epoch as this process's last grant means nobody else held the lease since.
    Us {
        /// The lease's epoch.
        epoch: i64,
    },
    /// Another process (its holder id, `None` if the row vanished meanwhile), whose lease has not
    /// lapsed.
    Other(Option<String>),
}

/// An attestation signed under the store's protection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guarded {
    /// The attestation of record (its output hash may be another replica's).
    pub att: Attestation,
    /// Its 65-byte signature.
    pub sig: Bytes,
    /// The output bytes of record.
    pub output: Vec<u8>,
    /// Whether another replica's different output was adopted instead of ours.
    pub adopted: bool,
    /// Whether this call claimed the slot first ([`Claim::Won`]). Otherwise the statement was
    /// claimed before, by another replica (which may already have sent it) or by this one before a
    /// restart.
    pub first: bool,
}

/// Signs `att` (whose output is `output`) at most once per slot across every replica sharing
/// `store`: signs it in memory, then claims the slot with output and signature in one insert. The
/// signature is returned (and so journaled, published or sent) only if that claim is the one of
/// record, or the stored statement is the same attestation. When another replica already claimed a
/// different output, our signature is dropped unused and that statement is adopted (its stored
/// signature, checked against the hot key, or the same attestation signed here).
pub async fn sign_once(
    store: &SigningStore,
    key: &HotKey,
    domain: &Eip712Domain,
    slot: &Slot,
    att: Attestation,
    output: Vec<u8>,
) -> Result<Guarded, SigningStoreError> {
    let s = Signing {
        store,
        key,
        domain,
        slot,
    };
    let ours = Bytes::from(key.sign_attestation(&att, domain)?.to_vec());
    match store.claim_signed(slot, &output, &ours).await {
        Ok(Claim::Won) => Ok(Guarded {
            att,
            sig: ours,
            output,
            adopted: false,
            first: true,
        }),
        Ok(Claim::Same { signature }) => s.signed(att, output, signature, false).await,
        Err(SigningStoreError::Conflict { claimed, .. }) => s.adopt(att, *claimed, true).await,
        Err(e) => Err(e),
    }
}

/// The statement of record of `slot`, signed, if a replica already claimed it: adopted as is (its
/// output bytes, its stored signature checked against the hot key, or signed here if the claiming
/// replica has not recorded one yet), so a replica that finds the slot claimed need not run the
/// model at all. `None`: nobody claimed it yet (compute, then [`sign_once`]). `att` carries the
/// request's fields; its output hash is replaced by the statement's.
pub async fn adopt_claimed(
    store: &SigningStore,
    key: &HotKey,
    domain: &Eip712Domain,
    slot: &Slot,
    att: Attestation,
) -> Result<Option<Guarded>, SigningStoreError> {
    let s = Signing {
        store,
        key,
        domain,
        slot,
    };
    match store.statement(slot).await? {
        Some(claimed) => s.adopt(att, claimed, false).await.map(Some),
        None => Ok(None),
    }
}

/// What signing one slot's statement needs.
struct Signing<'a> {
    store: &'a SigningStore,
    key: &'a HotKey,
    domain: &'a Eip712Domain,
    slot: &'a Slot,
}

impl Signing<'_> {
    /// `claimed`, the statement of record, signed ([`Signing::signed`]) for this replica;
    /// `adopted`: it replaces an output this replica computed.
    async fn adopt(
        &self,
        att: Attestation,
        claimed: ClaimedStatement,
        adopted: bool,
    ) -> Result<Guarded, SigningStoreError> {
        let att = Attestation {
            outputHash: claimed.output_hash,
            ..att
        };
        self.signed(att, claimed.output, claimed.signature, adopted)
            .await
    }

    /// The statement `att` with its signature: `stored` (checked to be the hot key's), or signed
    /// here and recorded (only once: the signature of record is returned).
    ///
    /// The check signs `att` and compares: ECDSA signatures are deterministic here (RFC 6979), so
    /// a stored signature of this key is byte for byte the one signing gives, at about a quarter of
    /// the cost of recovering its signer. Only a stored signature that differs (another signer's
    /// encoding of a valid one, or a corrupt row) is recovered.
    async fn signed(
        &self,
        att: Attestation,
        output: Vec<u8>,
        stored: Option<Bytes>,
        adopted: bool,
    ) -> Result<Guarded, SigningStoreError> {
        let sig = match stored {
            Some(sig) => {
                let ours = self.key.sign_attestation(&att, self.domain)?;
                if sig.as_ref() != ours.as_slice()
                    && attest::recover(&att, self.domain, &sig) != Some(self.key.address())
                {
                    return Err(SigningStoreError::Corrupt {
                        request: self.slot.request_id,
                        reason: "stored signature is not this hot key's".into(),
                    });
                }
                sig
            }
            None => {
                let sig = Bytes::from(self.key.sign_attestation(&att, self.domain)?.to_vec());
                self.store
                    .record_signature(self.slot, att.outputHash, &sig)
                    .await?
            }
        };
        Ok(Guarded {
            att,
            sig,
            output,
            adopted,
            first: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password_only() {
        assert_eq!(
            redact_url("postgres://keeper:s3cret@db.example:5432/verinfer"),
            "postgres://keeper:***@db.example:5432/verinfer"
        );
        assert_eq!(
            redact_url("postgres://keeper@db/verinfer"),
            "postgres://keeper@db/verinfer"
        );
        assert_eq!(redact_url("host=db user=k"), "host=db user=k");
    }

    fn section(toml_text: &str) -> Result<SigningStoreConfig, ConfigError> {
        toml::from_str::<RawSigningStoreConfig>(toml_text)
            .unwrap()
            .validate()
    }

    #[test]
    fn config_defaults_and_bounds_name_the_field() {
        let c = section("postgres_url = \"postgres://k@db:5432/v\"").unwrap();
        assert_eq!(c.replica, "keeper");
        assert_eq!(c.timeout, Duration::from_secs(2));
        let err = section("replica = \"a\"").unwrap_err().to_string();
        assert!(err.contains("signing_store.postgres_url"), "{err}");
        let err = section("postgres_url = \"postgres://k@db/v\"\ntimeout_ms = 5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("signing_store.timeout_ms"), "{err}");
        let err = section("postgres_url = \"postgres://k@db/v\"\nreplica = \"\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("signing_store.replica"), "{err}");
        assert!(toml::from_str::<RawSigningStoreConfig>("postgres = 1").is_err());
    }

    #[test]
    fn config_errors_and_debug_never_echo_the_password() {
        let err = section("postgres_url = \"postgres://k:hunter2@db:notaport/v\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("signing_store.postgres_url"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let ok = section("postgres_url = \"postgres://k:hunter2@db/v\"").unwrap();
        assert!(!format!("{ok:?}").contains("hunter2"));
    }

    /// A single keeper has no store; `VERINFER_SIGNING_STORE_URL` (through the lookup the command
    /// line passes) turns one on, keeping a `replica` set in the file.
    #[test]
    fn store_is_off_by_default_and_the_url_override_turns_it_on() {
        let base = "rpc_url = \"http://127.0.0.1:8545\"\nregistry = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\noperator = \"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"\n";
        let raw: crate::config::RawConfig = toml::from_str(base).unwrap();
        let cfg = crate::config::KeeperConfig::from_raw(raw).unwrap();
        assert!(cfg.signing_store.is_none());
        let mut raw: crate::config::RawConfig =
            toml::from_str(&format!("{base}[signing_store]\nreplica = \"b\"\n")).unwrap();
        raw.apply_env(|k| {
            (k == "VERINFER_SIGNING_STORE_URL").then(|| "postgres://k:pw@db/v".to_string())
        })
        .unwrap();
        let cfg = crate::config::KeeperConfig::from_raw(raw).unwrap();
        let store = cfg.signing_store.unwrap();
        assert_eq!(store.postgres_url, "postgres://k:pw@db/v");
        assert_eq!(store.replica, "b");
    }

    #[test]
    fn debug_does_not_show_the_password() {
        let s = SigningStore::new(
            "postgres://k:hunter2@127.0.0.1/x",
            "a",
            Duration::from_secs(1),
        );
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }

    /// Fail-closed: with no database listening, a claim errors (typed, bounded) and nothing signed.
    /// Two claims of one fresh slot in one statement: only the first is inserted, the second is
    /// set aside to be resolved against the row of record (inserting both would report two
    /// winners: two different statements released for one slot).
    #[tokio::test]
    async fn a_slot_claimed_twice_in_one_statement_is_inserted_once() {
        let pg = verinfer_devnet::postgres::spawn(verinfer_devnet::postgres::Durability::Volatile)
            .unwrap_or_else(|e| panic!("{e}"));
        let store = SigningStore::new(&pg.url(), "one", Duration::from_secs(5));
        store.connect().await.unwrap();
        let slot = Slot {
            chain_id: 31337,
            registry: Address::repeat_byte(1),
            operator: Address::repeat_byte(2),
            request_id: U256::from(7u64),
            request_digest: B256::repeat_byte(3),
        };
        let claim = |output: &[u8]| NewClaim {
            slot,
            output: output.to_vec(),
            signature: None,
        };
        let inserted: Vec<bool> = store
            .db
            .insert_claims(vec![claim(b"left"), claim(b"right")])
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(inserted, vec![true, false]);
        let stored = store.statement(&slot).await.unwrap().unwrap();
        assert_eq!(stored.output, b"left".to_vec());
    }

    #[tokio::test]
    async fn unreachable_store_refuses_to_claim() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let s = SigningStore::new(
            &format!("postgres://k@127.0.0.1:{port}/x"),
            "a",
            Duration::from_secs(2),
        );
        let slot = Slot {
            chain_id: 1,
            registry: Address::ZERO,
            operator: Address::ZERO,
            request_id: U256::from(1u64),
            request_digest: B256::ZERO,
        };
        let err = s.claim(&slot, b"out").await.unwrap_err();
        assert!(
            matches!(
                err,
                SigningStoreError::Unavailable { .. } | SigningStoreError::Timeout { .. }
            ),
            "{err}"
        );
    }
}
