//! docs/keeper.md, "Two replicas, step by step", run as an operator would run it: every shell block of
//! that section in order, in one shell session (common::docs), against the test's own anvil and
//! private PostgreSQL (`verinfer_devnet::postgres`). The values the section asks the reader to fill in
//! (the RPC, the keys, the store's URL, the replicas' addresses) get the test's; everything else is
//! the doc's text. The two replicas it starts must both become healthy; after the doc kills the
//! active one with `kill -9`, the other must answer alone, and each request must have exactly one
//! answer on chain and one claim in the store.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use serde_json::Value;
use verinfer_bindings::InferenceRegistry;

mod common;

use common::docs::{free_addr, http_get, repo_path, shell_blocks, wait_for, DocSession, Mark};
use common::Chain;

const DOC: &str = "docs/keeper.md";
const SECTION: &str = "### Two replicas, step by step";

/// The section's text: from its heading to the next heading of the same or a higher level.
fn section(md: &str) -> String {
    let start = md
        .find(SECTION)
        .expect("the doc has the two-replica walkthrough");
    let body = &md[start + SECTION.len()..];
    let end = body
        .match_indices("\n#")
        .find(|(i, _)| {
            let rest = &body[i + 1..];
            rest.starts_with("# ") || rest.starts_with("## ") || rest.starts_with("### ")
        })
        .map_or(body.len(), |(i, _)| i);
    // keep the doc's line numbers in messages: pad with the lines before the section
    let before = md[..start + SECTION.len()].lines().count();
    format!("{}{}", "\n".repeat(before.saturating_sub(1)), &body[..end])
}

/// Runs `psql` of the private server with `sql`; its unaligned, tuples-only output.
fn psql(pg: &verinfer_devnet::postgres::PostgresInstance, sql: &str) -> String {
    let bin = verinfer_devnet::postgres::find_bin_dir().expect("PostgreSQL binaries");
    let out = std::process::Command::new(bin.join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port().to_string(),
            "-U",
            verinfer_devnet::postgres::SUPERUSER,
            "-d",
            "postgres",
            "-Atc",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_walkthrough_runs_two_replicas_and_the_survivor_of_a_kill_answers_without_a_second_statement()
{
    let md = std::fs::read_to_string(repo_path(DOC)).expect("the doc");
    let blocks = shell_blocks(DOC, &section(&md)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        blocks.iter().filter(|b| b.mark == Mark::Background).count(),
        2,
        "two replicas"
    );
    assert!(blocks.iter().all(|b| !matches!(b.mark, Mark::Skip(_))));

    let chain = Chain::start();
    let mut pg = verinfer_devnet::postgres::spawn(verinfer_devnet::postgres::Durability::Volatile)
        .unwrap_or_else(|e| panic!("{e}"));
    let (outputs_a, outputs_b) = (free_addr(), free_addr());
    let (metrics_a, metrics_b) = (free_addr(), free_addr());
    let mut s = DocSession::new(
        DOC,
        &[
            ("ETH_RPC_URL", chain.url.clone()),
            ("DEPLOYER_KEY", chain.key(0)),
            ("OWNER_KEY", chain.key(1)),
            ("VERINFER_OPERATOR_KEY", chain.key(2)),
            ("CLIENT_KEY", chain.key(3)),
            ("VERINFER_SIGNING_STORE_URL", pg.url()),
            ("OUTPUTS_A", outputs_a),
            ("OUTPUTS_B", outputs_b.clone()),
            ("METRICS_A", metrics_a.clone()),
            ("METRICS_B", metrics_b.clone()),
        ],
    );
    std::os::unix::fs::symlink(repo_path("models"), s.work().join("models")).expect("models link");

    let logs = [
        s.dir.path().join("keeper-a.log"),
        s.dir.path().join("keeper-b.log"),
    ];
    let log_text = |i: usize| std::fs::read_to_string(&logs[i]).unwrap_or_default();
    let mut replicas = Vec::new();
    let mut outputs = Vec::new();
    for b in &blocks {
        match &b.mark {
            Mark::Skip(_) => {}
            Mark::Run => outputs.push((b.text.clone(), s.run(b))),
            Mark::Background => {
                let i = replicas.len();
                let metrics = if i == 0 { &metrics_a } else { &metrics_b };
                let mut child = s.spawn(b, &logs[i]);
                wait_for(
                    "a replica to report a healthy /health",
                    90,
                    || {
                        if let Ok(Some(st)) = child.0.try_wait() {
                            panic!("replica {i} exited ({st}):\n{}", log_text(i));
                        }
                        match http_get(metrics, "/health") {
                            Ok((200, _, body)) => Some(body),
                            _ => None,
                        }
                    },
                    || log_text(i),
                );
                replicas.push(child);
            }
        }
    }
    s.assert_overrides_declared();
    assert_eq!(replicas.len(), 2);

    // Both requests reached a verified result, the digit the committed split says.
    let mut ids = Vec::new();
    for file in ["first.json", "second.json"] {
        let r: Value = serde_json::from_str(
            &std::fs::read_to_string(s.work().join(file)).expect("the request's JSON"),
        )
        .expect("one JSON object");
        assert!(
            matches!(r["status"].as_str(), Some("Quorum" | "Finalized")),
            "{file}: {r}"
        );
        assert_eq!(r["verified"], true, "{file}: {r}");
        assert!(
            r["decoded"].as_str().unwrap_or("").contains("class 7"),
            "{file}: {r}"
        );
        let id: U256 = r["request"]
            .as_str()
            .and_then(|x| x.parse().ok())
            .expect("the request id");
        ids.push(id);
    }
    // The doc killed replica a; b is alive and healthy (the doc's last command printed its /health).
    assert!(
        replicas[0].0.try_wait().expect("wait").is_some(),
        "replica a was killed by the doc"
    );
    assert!(
        replicas[1].0.try_wait().expect("wait").is_none(),
        "replica b runs:\n{}",
        log_text(1)
    );
    let health = outputs
        .iter()
        .rev()
        .find(|(t, _)| t.contains("curl"))
        .map(|(_, o)| o.clone())
        .expect("the doc reads b's /health");
    let h: Value = serde_json::from_str(health.lines().last().unwrap_or("")).expect("/health JSON");
    assert_eq!(h["status"], "ok", "{health}");
    assert_eq!(
        h["sender_lease_held"], true,
        "replica b took the sender lease after the kill: {health}"
    );

    // Exactly one answer per request on chain, from the operator the doc registered.
    let owner: Address = s.var("OWNER").parse().expect("OWNER");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(s.work().join("deployments/31337.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    let registry: Address = manifest["contracts"]["InferenceRegistry"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("the registry's address");
    let logs = chain
        .rt
        .block_on(
            chain.provider.get_logs(
                &Filter::new()
                    .address(registry)
                    .event_signature(InferenceRegistry::AnswerRecorded::SIGNATURE_HASH)
                    .from_block(0),
            ),
        )
        .expect("eth_getLogs");
    let answers: Vec<InferenceRegistry::AnswerRecorded> = logs
        .iter()
        .map(|l| {
            InferenceRegistry::AnswerRecorded::decode_log_data(l.data())
                .expect("an AnswerRecorded log")
        })
        .collect();
    for id in &ids {
        let mine: Vec<_> = answers.iter().filter(|a| a.requestId == *id).collect();
        assert_eq!(mine.len(), 1, "request {id}: {answers:?}");
        assert_eq!(mine[0].operator, owner);
    }
    // One claim per request in the shared store, each with its signature recorded, and every claim's
    // output the one on chain.
    let rows = psql(
        &pg,
        "SELECT request_id, replica, encode(output_hash, 'hex'), signature IS NOT NULL \
         FROM verinfer_signed_attestations ORDER BY request_id",
    );
    let rows: Vec<Vec<&str>> = rows.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), ids.len(), "{rows:?}");
    for id in &ids {
        let row = rows
            .iter()
            .find(|r| r[0] == id.to_string())
            .unwrap_or_else(|| panic!("no claim for request {id}: {rows:?}"));
        assert!(matches!(row[1], "a" | "b"), "{row:?}");
        assert_eq!(row[3], "t", "the signature is recorded: {row:?}");
        let on_chain: B256 = answers
            .iter()
            .find(|a| a.requestId == *id)
            .map(|a| a.outputHash)
            .expect("its answer");
        assert_eq!(alloy::hex::encode(on_chain), row[2], "{row:?}");
    }
    // The second request came after a's death: b claimed it.
    let second = rows
        .iter()
        .find(|r| r[0] == ids[1].to_string())
        .expect("the second claim");
    assert_eq!(second[1], "b", "{rows:?}");

    // The survivor spent nothing on a copy of an answer already on chain: a racing replica's
    // attestation is refused at estimation and booked as done, not sent and reverted.
    let (code, _, metrics) = http_get(&metrics_b, "/metrics").expect("b's /metrics");
    assert_eq!(code, 200);
    let failed: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("verinfer_keeper_txs_failed_total"))
        .collect();
    assert!(!failed.is_empty(), "{metrics}");
    assert!(
        failed.iter().all(|l| l.ends_with(" 0")),
        "replica b counted failed transactions: {failed:?}\n{}",
        log_text(1)
    );

    let status = replicas[1].terminate(30);
    assert!(status.success(), "{status}\n{}", log_text(1));
    pg.stop().expect("stop PostgreSQL");
}
