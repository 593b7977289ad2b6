//! A JSON-RPC proxy in front of a node that injects faults per method: a node that is unavailable
//! (HTTP 503), one that takes a call and never answers it, one that answers late, one that answers
//! stale data, and one that rejects single calls with a JSON-RPC error while a batch's other
//! members go through. Tests point a keeper (or a transaction manager) at it to prove how the
//! keeper behaves against a faulty node, and to stop a keeper at an exact point of its work (a
//! broadcast that never reaches the node is a crash between the journal write and the send) without
//! any hook in the keeper itself. Every call is counted on its way through, faulty or not (a batch
//! counts each of its members), so with no fault set it is the counting proxy of the keeper bench's
//! `--count-rpc` and of tests that check how many calls a path makes, and how many it overlaps
//! ([`FaultyRpc::most_in_flight`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use alloy::transports::http::reqwest;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What the proxy does with the calls of one method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers HTTP 503 (a node that is overloaded or restarting).
    Unavailable,
    /// Takes the call and never answers it (a hung node); the caller gets an answer only by giving
    /// up. Calls that arrive once the fault is cleared are forwarded again. A hung call counts in
    /// flight ([`FaultyRpc::most_in_flight`]) until its caller gives up.
    Hang,
    /// Forwards the call and answers after this delay.
    Delay(Duration),
    /// Waits this long, then forwards the call: the node answers from the chain it has then (a
    /// slow node, or a call that crosses a reorg).
    Hold(Duration),
    /// Answers with the node's answer to the method's last call forwarded before the fault was set
    /// (a lagging node behind a load balancer); the answer's `id` is the caller's. A method never
    /// forwarded before is forwarded.
    Stale,
    /// Answers every call with this `result` (a node that reports old or wrong data: e.g. a head
    /// below the blocks it served before, as a lagging node behind a load balancer does).
    ///
    /// `Stale` and `Result` answer as to a single call: set them on methods the caller does not
    /// send in JSON-RPC batches (the keeper's receipt hub batches `eth_getBlockReceipts`).
    Result(serde_json::Value),
    /// Per call, not per request: forwards the method's next `skip` calls, then answers the `times`
    /// calls after them with the JSON-RPC error `-32000 message` without forwarding them (a node
    /// that rejects one transaction, e.g. "txpool is full"), then clears itself (at once with
    /// `times: 0`). Each member of a JSON-RPC batch is a call: the batch's other members are
    /// forwarded and answered by the node, in one batch answer with the rejected members' errors.
    /// A request with a rejected call gets no other fault (`Delay`, `Hold`, `behind_at`) on the
    /// calls it forwards; if forwarding them fails, it is answered 502 (the rejections are spent).
    Reject {
        /// Calls forwarded before the first rejected one.
        skip: usize,
        /// Calls rejected.
        times: usize,
        /// The error's message.
        message: String,
    },
}

impl Fault {
    /// [`Fault::Reject`] of the method's very next call only, with `message` (e.g. "nonce too
    /// low": the node refuses one broadcast for its nonce).
    pub fn reject_next(message: &str) -> Self {
        Self::Reject {
            skip: 0,
            times: 1,
            message: message.into(),
        }
    }
}

/// The proxy's shared state.
#[derive(Debug, Default)]
struct State {
    counts: BTreeMap<String, usize>,
    /// Request bodies (HTTP requests) that carried each method: a batch counts once per method.
    bodies: BTreeMap<String, usize>,
    faults: HashMap<String, Fault>,
    /// The last answer of each method forwarded (single calls only).
    last: HashMap<String, serde_json::Value>,
    /// The answers [`Fault::Stale`] serves, frozen when the fault was set.
    frozen: HashMap<String, serde_json::Value>,
    /// Answer as a node whose chain ends at this block ([`FaultyRpc::behind_at`]).
    behind: Option<u64>,
    /// The round trip added to every forwarded request ([`FaultyRpc::set_latency`]).
    latency: Option<Duration>,
    /// Calls of each method being answered now (their request received, not yet answered).
    in_flight: BTreeMap<String, usize>,
    /// The most calls of each method ever in flight at once ([`FaultyRpc::most_in_flight`]).
    most_in_flight: BTreeMap<String, usize>,
}

/// The calls of one request, counted in flight from its arrival until its answer is sent or the
/// request is dropped (a hung call whose caller gave up).
struct CallsInFlight {
    state: Shared,
    methods: Vec<String>,
}

impl CallsInFlight {
    fn begin(state: &Shared, body: &[u8]) -> Self {
        let methods: Vec<String> = calls(body).iter().map(method).collect();
        let mut s = lock(state);
        for m in &methods {
            let now = {
                let n = s.in_flight.entry(m.clone()).or_default();
                *n += 1;
                *n
            };
            let most = s.most_in_flight.entry(m.clone()).or_default();
            *most = (*most).max(now);
        }
        drop(s);
        Self {
            state: state.clone(),
            methods,
        }
    }
}

impl Drop for CallsInFlight {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        for m in &self.methods {
            if let Some(n) = s.in_flight.get_mut(m) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fault-injecting proxy; stops accepting calls when dropped.
#[derive(Debug)]
pub struct FaultyRpc {
    url: String,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyRpc {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The calls of a JSON-RPC body (one call or a batch).
fn calls(body: &[u8]) -> Vec<serde_json::Value> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(calls)) => calls,
        Ok(one) => vec![one],
        Err(_) => vec![serde_json::Value::Null],
    }
}

fn method(call: &serde_json::Value) -> String {
    call["method"].as_str().unwrap_or("?").to_string()
}

/// What to do with one request body.
enum Plan {
    Forward {
        /// Wait this long before forwarding.
        hold: Option<Duration>,
        /// Wait this long before answering.
        delay: Option<Duration>,
        /// The method of a single call, whose answer is recorded for [`Fault::Stale`].
        record: Option<String>,
    },
    Unavailable,
    Hang,
    Replay(serde_json::Value),
    /// Some calls rejected ([`Fault::Reject`]): forward the rest (`None`: nothing left), then
    /// answer with the node's answers and these errors, as a batch if the request was one.
    Split {
        forward: Option<Vec<u8>>,
        rejected: Vec<serde_json::Value>,
        batch: bool,
    },
}

/// The error answering `call` if a [`Fault::Reject`] on its method rejects it: counts it against
/// the fault, which clears itself after its last rejection.
fn rejects(s: &mut State, call: &serde_json::Value) -> Option<serde_json::Value> {
    let m = method(call);
    let Some(Fault::Reject {
        skip,
        times,
        message,
    }) = s.faults.get_mut(&m)
    else {
        return None;
    };
    if *times == 0 {
        s.faults.remove(&m);
        return None;
    }
    if *skip > 0 {
        *skip -= 1;
        return None;
    }
    let error = serde_json::json!({
        "jsonrpc": "2.0",
        "id": call["id"].clone(),
        "error": {"code": -32000, "message": message.clone()},
    });
    *times = times.saturating_sub(1);
    if *times == 0 {
        s.faults.remove(&m);
    }
    Some(error)
}

fn plan(state: &Shared, body: &[u8]) -> Plan {
    let batch = matches!(
        serde_json::from_slice::<serde_json::Value>(body),
        Ok(serde_json::Value::Array(_))
    );
    let calls = calls(body);
    let mut s = lock(state);
    for c in &calls {
        *s.counts.entry(method(c)).or_default() += 1;
    }
    let carried: std::collections::BTreeSet<String> = calls.iter().map(method).collect();
    for m in carried {
        *s.bodies.entry(m).or_default() += 1;
    }
    let (mut rejected, mut kept) = (Vec::new(), Vec::new());
    for c in &calls {
        match rejects(&mut s, c) {
            Some(error) => rejected.push(error),
            None => kept.push(c.clone()),
        }
    }
    if !rejected.is_empty() {
        let forward = match (kept.len(), batch) {
            (0, _) => None,
            (_, true) => serde_json::to_vec(&kept).ok(),
            (_, false) => serde_json::to_vec(&kept[0]).ok(),
        };
        return Plan::Split {
            forward,
            rejected,
            batch,
        };
    }
    let single = (calls.len() == 1).then(|| method(&calls[0]));
    let fault = calls.iter().find_map(|c| {
        s.faults
            .get(&method(c))
            .filter(|f| !matches!(f, Fault::Reject { .. }))
            .cloned()
    });
    match fault {
        None => Plan::Forward {
            hold: None,
            delay: None,
            record: single,
        },
        Some(Fault::Unavailable) => Plan::Unavailable,
        // Left out above: a call it does not reject is forwarded as the others.
        Some(Fault::Reject { .. }) => Plan::Forward {
            hold: None,
            delay: None,
            record: single,
        },
        Some(Fault::Hang) => Plan::Hang,
        Some(Fault::Delay(d)) => Plan::Forward {
            hold: None,
            delay: Some(d),
            record: single,
        },
        Some(Fault::Hold(d)) => Plan::Forward {
            hold: Some(d),
            delay: None,
            record: single,
        },
        Some(Fault::Result(result)) => Plan::Replay(serde_json::json!({
            "jsonrpc": "2.0",
            "id": calls.first().map(|c| c["id"].clone()).unwrap_or_default(),
            "result": result,
        })),
        Some(Fault::Stale) => {
            let frozen = single.as_ref().and_then(|m| s.frozen.get(m)).cloned();
            match (frozen, calls.first()) {
                (Some(mut answer), Some(call)) => {
                    answer["id"] = call["id"].clone();
                    Plan::Replay(answer)
                }
                _ => Plan::Forward {
                    hold: None,
                    delay: None,
                    record: single,
                },
            }
        }
    }
}

/// What a node whose chain ends at a block does with one call.
#[derive(Debug, PartialEq)]
enum Lagging {
    /// Answers at once with this result.
    Answer(serde_json::Value),
    /// Forwards this call (its block parameters moved to the node's last block); a receipt of a
    /// later block is then answered as absent.
    Forward(Vec<u8>, Option<u64>),
}

fn block_number(v: &serde_json::Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
}

fn is_tag(v: &serde_json::Value) -> bool {
    matches!(
        v.as_str(),
        Some("latest" | "pending" | "safe" | "finalized")
    )
}

/// A single call as a node whose chain ends at block `last` answers it: its head is `last`, later
/// blocks, their receipts and logs do not exist, and state is read at `last`. Other calls (a batch,
/// a broadcast) go through unchanged.
fn lagging(body: &[u8], last: u64) -> Lagging {
    let unchanged = Lagging::Forward(body.to_vec(), None);
    let Ok(mut call) = serde_json::from_slice::<serde_json::Value>(body) else {
        return unchanged;
    };
    if !call.is_object() {
        return unchanged;
    }
    let id = call["id"].clone();
    let answer =
        |result| Lagging::Answer(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result}));
    let head = serde_json::Value::String(format!("{last:#x}"));
    let m = method(&call);
    let Some(params) = call.get_mut("params").and_then(|p| p.as_array_mut()) else {
        return if m == "eth_blockNumber" {
            answer(head)
        } else {
            unchanged
        };
    };
    let mut receipt = None;
    match m.as_str() {
        "eth_blockNumber" => return answer(head),
        "eth_getBlockByNumber" | "eth_getBlockReceipts" => match params.first_mut() {
            Some(p) if is_tag(p) => *p = head,
            Some(p) if block_number(p).is_some_and(|n| n > last) => {
                return answer(serde_json::Value::Null)
            }
            _ => {}
        },
        "eth_getTransactionCount"
        | "eth_getBalance"
        | "eth_call"
        | "eth_estimateGas"
        | "eth_getCode" => {
            if params.len() == 1 {
                params.push(head);
            } else if let Some(p) = params.get_mut(1).filter(|p| is_tag(p)) {
                *p = head;
            }
        }
        "eth_getLogs" => {
            if let Some(f) = params.first_mut().and_then(|f| f.as_object_mut()) {
                if f.get("fromBlock")
                    .and_then(block_number)
                    .is_some_and(|n| n > last)
                {
                    return answer(serde_json::json!([]));
                }
                let to = f.get("toBlock");
                if to.is_none_or(|t| is_tag(t) || block_number(t).is_some_and(|n| n > last)) {
                    f.insert("toBlock".into(), head);
                }
            }
        }
        "eth_getTransactionReceipt" => receipt = Some(last),
        _ => return unchanged,
    }
    match serde_json::to_vec(&call) {
        Ok(b) => Lagging::Forward(b, receipt),
        Err(_) => unchanged,
    }
}

/// A receipt answer of a block after `last` made absent (`result: null`).
fn hide_later_receipt(answer: axum::body::Bytes, last: u64) -> axum::body::Bytes {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&answer) else {
        return answer;
    };
    if block_number(&v["result"]["blockNumber"]).is_some_and(|n| n > last) {
        v["result"] = serde_json::Value::Null;
        if let Ok(b) = serde_json::to_vec(&v) {
            return b.into();
        }
    }
    answer
}

/// Answers a request some of whose calls are rejected ([`Plan::Split`]): forwards the others, then
/// answers with the node's answers and the rejections, as one batch answer for a batch request. A
/// forwarded batch the node answers with one object (an error about the whole batch) is passed on
/// as the node gave it.
async fn split(
    http: &reqwest::Client,
    upstream: &str,
    forward: Option<Vec<u8>>,
    rejected: Vec<serde_json::Value>,
    batch: bool,
) -> Response {
    let mut answers = Vec::new();
    if let Some(body) = forward {
        let forwarded = async {
            http.post(upstream)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?
                .json::<serde_json::Value>()
                .await
        };
        match forwarded.await {
            Ok(serde_json::Value::Array(a)) => answers.extend(a),
            Ok(one) if batch => return axum::Json(one).into_response(),
            Ok(one) => answers.push(one),
            Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        }
    }
    answers.extend(rejected);
    match (batch, answers.len()) {
        (false, 1) => axum::Json(answers.remove(0)).into_response(),
        _ => axum::Json(serde_json::Value::Array(answers)).into_response(),
    }
}

impl FaultyRpc {
    /// Listens on a free loopback port and forwards every POST to `upstream`, with no fault set.
    pub async fn start(upstream: &str) -> Result<Self, std::io::Error> {
        let state: Shared = Arc::default();
        let http = reqwest::Client::new();
        let (st, upstream) = (state.clone(), upstream.to_string());
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (st, http, upstream) = (st.clone(), http.clone(), upstream.clone());
                async move {
                    let _in_flight = CallsInFlight::begin(&st, &body);
                    let (delay, record) = match plan(&st, &body) {
                        Plan::Unavailable => {
                            return (
                                StatusCode::SERVICE_UNAVAILABLE,
                                "injected fault: unavailable",
                            )
                                .into_response()
                        }
                        Plan::Hang => return std::future::pending::<Response>().await,
                        Plan::Replay(answer) => return axum::Json(answer).into_response(),
                        Plan::Split {
                            forward,
                            rejected,
                            batch,
                        } => return split(&http, &upstream, forward, rejected, batch).await,
                        Plan::Forward {
                            hold,
                            delay,
                            record,
                        } => {
                            if let Some(h) = hold {
                                tokio::time::sleep(h).await;
                            }
                            (delay, record)
                        }
                    };
                    // Half of the added round trip on the way to the node, half on the way back.
                    let half_trip = lock(&st).latency.map(|l| l / 2);
                    if let Some(h) = half_trip {
                        tokio::time::sleep(h).await;
                    }
                    let behind = lock(&st).behind;
                    let (body, hide_after) = match behind.map(|last| lagging(&body, last)) {
                        Some(Lagging::Answer(v)) => return axum::Json(v).into_response(),
                        Some(Lagging::Forward(b, hide)) => (axum::body::Bytes::from(b), hide),
                        None => (body, None),
                    };
                    let forwarded = async {
                        http.post(&upstream)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await?
                            .bytes()
                            .await
                    };
                    let answer = match forwarded.await {
                        Ok(bytes) => bytes,
                        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
                    };
                    let answer = match hide_after {
                        Some(last) => hide_later_receipt(answer, last),
                        None => answer,
                    };
                    if let Some(m) = record {
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&answer) {
                            lock(&st).last.insert(m, v);
                        }
                    }
                    if let Some(d) = delay {
                        tokio::time::sleep(d).await;
                    }
                    if let Some(h) = half_trip {
                        tokio::time::sleep(h).await;
                    }
                    ([("content-type", "application/json")], answer).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "faulty RPC proxy stopped");
            }
        });
        Ok(Self { url, state, server })
    }

    /// The proxy's URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sets `fault` on the calls of `method` from now on (a batch with one such call gets it; a
    /// [`Fault::Reject`] answers the rejected calls alone).
    pub fn set(&self, method: &str, fault: Fault) {
        let mut s = lock(&self.state);
        if fault == Fault::Stale {
            match s.last.get(method).cloned() {
                Some(v) => {
                    s.frozen.insert(method.to_string(), v);
                }
                None => {
                    s.frozen.remove(method);
                }
            }
        }
        s.faults.insert(method.to_string(), fault);
    }

    /// Answers as a node whose chain ends at block `last` (a node lagging behind the chain, as
    /// one behind a load balancer may): its head is `last`; blocks after it, their receipts and
    /// logs do not exist; balances, nonces, calls and estimates are read at `last`. Broadcasts
    /// still reach the node. `None`: current again. Per-method faults come first.
    pub fn behind_at(&self, last: Option<u64>) {
        lock(&self.state).behind = last;
    }

    /// Adds the round trip `latency` to every request the proxy forwards, whatever its method: half
    /// of it before the request reaches the node, half before its answer leaves the proxy (a node
    /// across a network instead of on this machine; on top of a method's own fault). `None`: none.
    pub fn set_latency(&self, latency: Option<Duration>) {
        lock(&self.state).latency = latency;
    }

    /// Clears the fault of `method`: its calls are forwarded again (calls already hung stay hung).
    pub fn clear(&self, method: &str) {
        lock(&self.state).faults.remove(method);
    }

    /// Calls of `method` received so far, faulty or not.
    pub fn count(&self, method: &str) -> usize {
        lock(&self.state)
            .counts
            .get(method)
            .copied()
            .unwrap_or_default()
    }

    /// HTTP requests received so far that carried at least one call of `method` (a JSON-RPC batch
    /// of several counts once): with [`FaultyRpc::count`], whether a caller batched its calls.
    pub fn requests_with(&self, method: &str) -> usize {
        lock(&self.state)
            .bodies
            .get(method)
            .copied()
            .unwrap_or_default()
    }

    /// Calls of every method received so far (a batch counts each of its members).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        lock(&self.state).counts.clone()
    }

    /// The most calls of `method` the proxy was answering at once (received, not yet answered),
    /// since it started or was [`reset`](Self::reset): whether a caller overlaps its calls, and by
    /// how many.
    pub fn most_in_flight(&self, method: &str) -> usize {
        lock(&self.state)
            .most_in_flight
            .get(method)
            .copied()
            .unwrap_or_default()
    }

    /// Forgets the counts so far (calls in flight now stay counted until answered).
    pub fn reset(&self) {
        let mut s = lock(&self.state);
        s.counts.clear();
        s.bodies.clear();
        s.most_in_flight.clear();
    }

    /// Waits until `method` has been called more than `seen` times, polling every 5 ms; `false` when
    /// `deadline` passes first.
    pub async fn called_more_than(&self, method: &str, seen: usize, deadline: Duration) -> bool {
        let until = tokio::time::Instant::now() + deadline;
        while self.count(method) <= seen {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{lagging, plan, Fault, Lagging, Plan, Shared, State};

    /// The added round trip is split around the node: a request reaches the node at least half of
    /// it after it was sent, and its answer reaches the caller at least half of it after the node
    /// answered. Both halves are lower bounds (sleeps), whatever else the machine does.
    #[tokio::test]
    async fn an_added_round_trip_delays_the_request_and_its_answer_by_half_each() {
        use std::sync::{Arc, Mutex};
        use std::time::{Duration, Instant};
        let reached: Arc<Mutex<Option<Instant>>> = Arc::default();
        let at = reached.clone();
        let node = axum::Router::new().route(
            "/",
            axum::routing::post(move || {
                let at = at.clone();
                async move {
                    *at.lock().unwrap() = Some(Instant::now());
                    axum::Json(serde_json::json!({"jsonrpc": "2.0", "id": 9, "result": "0x1"}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, node).await });
        let proxy = super::FaultyRpc::start(&upstream).await.unwrap();
        proxy.set_latency(Some(Duration::from_millis(400)));
        let sent = Instant::now();
        let answer = alloy::transports::http::reqwest::Client::new()
            .post(proxy.url())
            .header("content-type", "application/json")
            .body(call("eth_blockNumber", serde_json::json!([])))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let answered = Instant::now();
        assert!(answer.contains("0x1"), "{answer}");
        let reached = reached.lock().unwrap().expect("the node got the request");
        assert!(
            reached - sent >= Duration::from_millis(200),
            "on the way there"
        );
        assert!(
            answered - reached >= Duration::from_millis(200),
            "on the way back"
        );
    }

    fn call(method: &str, params: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({"jsonrpc":"2.0","id":9,"method":method,"params":params}),
        )
        .unwrap()
    }

    fn forwarded(l: Lagging) -> (serde_json::Value, Option<u64>) {
        match l {
            Lagging::Forward(b, hide) => (serde_json::from_slice(&b).unwrap(), hide),
            Lagging::Answer(v) => panic!("answered {v}"),
        }
    }

    #[test]
    fn a_batch_counts_each_member_and_its_body_once_and_garbage_counts_once() {
        let state = Shared::default();
        let _ = plan(
            &state,
            br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#,
        );
        let _ = plan(
            &state,
            br#"[{"method":"eth_getLogs"},{"method":"eth_blockNumber"},{}]"#,
        );
        let _ = plan(&state, b"not json");
        let _ = plan(
            &state,
            br#"[{"method":"eth_getLogs"},{"method":"eth_getLogs"}]"#,
        );
        let bodies = state.lock().unwrap().bodies.clone();
        assert_eq!(bodies["eth_getLogs"], 2, "two bodies carried eth_getLogs");
        assert_eq!(bodies["eth_chainId"], 1);
        let counts = state.lock().unwrap().counts.clone();
        let expect: Vec<(&str, usize)> = vec![
            ("?", 2),
            ("eth_blockNumber", 1),
            ("eth_chainId", 1),
            ("eth_getLogs", 3),
        ];
        assert_eq!(
            counts
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            expect
        );
    }

    #[test]
    fn a_lagging_node_has_no_later_blocks_and_reads_state_at_its_last() {
        let result = |l: Lagging| match l {
            Lagging::Answer(v) => {
                assert_eq!(v["id"], 9);
                v["result"].clone()
            }
            Lagging::Forward(..) => panic!("forwarded"),
        };
        assert_eq!(
            result(lagging(&call("eth_blockNumber", serde_json::json!([])), 16)),
            "0x10"
        );
        assert!(result(lagging(
            &call("eth_getBlockByNumber", serde_json::json!(["0x11", false])),
            16
        ))
        .is_null());
        let (c, _) = forwarded(lagging(
            &call("eth_getBlockByNumber", serde_json::json!(["latest", false])),
            16,
        ));
        assert_eq!(c["params"][0], "0x10");
        let (c, _) = forwarded(lagging(
            &call("eth_getBlockByNumber", serde_json::json!(["0x10", false])),
            16,
        ));
        assert_eq!(c["params"][0], "0x10");
        let (c, _) = forwarded(lagging(
            &call(
                "eth_getTransactionCount",
                serde_json::json!(["0xab", "pending"]),
            ),
            16,
        ));
        assert_eq!(c["params"][1], "0x10");
        let (c, _) = forwarded(lagging(
            &call("eth_estimateGas", serde_json::json!([{}])),
            16,
        ));
        assert_eq!(c["params"][1], "0x10");
        assert_eq!(
            result(lagging(
                &call(
                    "eth_getLogs",
                    serde_json::json!([{"fromBlock":"0x11","toBlock":"0x12"}])
                ),
                16
            )),
            serde_json::json!([])
        );
        let (c, _) = forwarded(lagging(
            &call(
                "eth_getLogs",
                serde_json::json!([{"fromBlock":"0x2","toBlock":"0x12"}]),
            ),
            16,
        ));
        assert_eq!(c["params"][0]["toBlock"], "0x10");
        let (_, hide) = forwarded(lagging(
            &call("eth_getTransactionReceipt", serde_json::json!(["0x01"])),
            16,
        ));
        assert_eq!(hide, Some(16));
        let later = super::hide_later_receipt(
            br#"{"jsonrpc":"2.0","id":1,"result":{"blockNumber":"0x11"}}"#
                .to_vec()
                .into(),
            16,
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&later).unwrap()["result"].is_null());
        let (c, _) = forwarded(lagging(
            &call("eth_sendRawTransaction", serde_json::json!(["0x02"])),
            16,
        ));
        assert_eq!(c["params"][0], "0x02", "broadcasts reach the node");
    }
    use std::sync::{Arc, Mutex};

    fn shared(faults: &[(&str, Fault)]) -> Shared {
        let mut s = State::default();
        for (m, f) in faults {
            s.faults.insert((*m).to_string(), f.clone());
        }
        s.frozen.insert(
            "eth_blockNumber".into(),
            serde_json::json!({"jsonrpc":"2.0","id":1,"result":"0x5"}),
        );
        Arc::new(Mutex::new(s))
    }

    #[test]
    fn a_fault_applies_to_its_method_and_to_a_batch_holding_it_and_every_call_counts() {
        let st = shared(&[("eth_getLogs", Fault::Unavailable)]);
        assert!(matches!(
            plan(&st, br#"{"jsonrpc":"2.0","id":1,"method":"eth_getLogs"}"#),
            Plan::Unavailable
        ));
        assert!(matches!(
            plan(
                &st,
                br#"[{"method":"eth_chainId"},{"method":"eth_getLogs"}]"#
            ),
            Plan::Unavailable
        ));
        assert!(matches!(
            plan(&st, br#"{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}"#),
            Plan::Forward { hold: None, delay: None, record: Some(ref m) } if m == "eth_chainId"
        ));
        let s = st.lock().unwrap();
        assert_eq!(s.counts["eth_getLogs"], 2);
        assert_eq!(s.counts["eth_chainId"], 2);
    }

    #[test]
    fn a_stale_or_fixed_answer_is_served_under_the_callers_id() {
        let st = shared(&[
            ("eth_blockNumber", Fault::Stale),
            ("eth_call", Fault::Stale),
        ]);
        match plan(
            &st,
            br#"{"jsonrpc":"2.0","id":42,"method":"eth_blockNumber"}"#,
        ) {
            Plan::Replay(v) => {
                assert_eq!(v["id"], 42);
                assert_eq!(v["result"], "0x5");
            }
            _ => panic!("a stale method replays its frozen answer"),
        }
        let st = shared(&[("eth_blockNumber", Fault::Result(serde_json::json!("0x2")))]);
        match plan(
            &st,
            br#"{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber"}"#,
        ) {
            Plan::Replay(v) => {
                assert_eq!(v["id"], 7);
                assert_eq!(v["result"], "0x2");
            }
            _ => panic!("a fixed result is served"),
        }
        let st = shared(&[("eth_call", Fault::Stale)]);
        // Nothing frozen for eth_call: forwarded.
        assert!(matches!(
            plan(&st, br#"{"jsonrpc":"2.0","id":3,"method":"eth_call"}"#),
            Plan::Forward { .. }
        ));
    }

    #[test]
    fn a_rejected_call_is_answered_with_its_error_alone_and_the_batchs_other_members_are_forwarded()
    {
        let st = shared(&[(
            "eth_sendRawTransaction",
            Fault::Reject {
                skip: 2,
                times: 2,
                message: "txpool is full".into(),
            },
        )]);
        let batch =
            br#"[{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x01"]},
            {"jsonrpc":"2.0","id":2,"method":"eth_sendRawTransaction","params":["0x02"]},
            {"jsonrpc":"2.0","id":3,"method":"eth_sendRawTransaction","params":["0x03"]},
            {"jsonrpc":"2.0","id":4,"method":"eth_chainId"}]"#;
        match plan(&st, batch) {
            Plan::Split {
                forward: Some(f),
                rejected,
                batch: true,
            } => {
                let f: serde_json::Value = serde_json::from_slice(&f).unwrap();
                let ids: Vec<_> = f
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].clone())
                    .collect();
                assert_eq!(
                    ids,
                    [1, 2, 4],
                    "the skipped calls and the other method go through"
                );
                assert_eq!(rejected.len(), 1);
                assert_eq!(rejected[0]["id"], 3);
                assert_eq!(rejected[0]["error"]["code"], -32000);
                assert_eq!(rejected[0]["error"]["message"], "txpool is full");
            }
            _ => panic!("the third broadcast is rejected alone"),
        }
        // The second rejection, a single call: nothing is left to forward.
        match plan(
            &st,
            br#"{"jsonrpc":"2.0","id":9,"method":"eth_sendRawTransaction","params":["0x03"]}"#,
        ) {
            Plan::Split {
                forward: None,
                rejected,
                batch: false,
            } => assert_eq!(rejected[0]["id"], 9),
            _ => panic!("the second rejection"),
        }
        // Spent: the fault cleared itself.
        assert!(matches!(
            plan(
                &st,
                br#"{"jsonrpc":"2.0","id":10,"method":"eth_sendRawTransaction","params":["0x03"]}"#
            ),
            Plan::Forward { .. }
        ));
        assert!(st.lock().unwrap().faults.is_empty());
    }
}
