//! Throughput of the protocol transaction mix: revm in-process vs JSON-RPC against a local anvil,
//! and in-process cost growth from 100 to 10,000 stakers.
//!
//! `cargo run --release -p verinfer-sim --example bench_mix -- [rpc-stakers]`
//! (anvil from `$VERINFER_ROOT/.toolchain/anvil` or PATH; `script/setup.sh` installs it, and the
//! run fails without it rather than report half a comparison).

use verinfer_devnet::anvil::{spawn, AnvilOptions};
use verinfer_sim::throughput::{compare, run_in_process, ANVIL_ARGS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rpc_stakers: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200);

    let node = spawn(&AnvilOptions::new().args(ANVIL_ARGS))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let c = rt.block_on(compare(&node, rpc_stakers))?;
    println!("{}", serde_json::to_string(&c.revm)?);
    println!("{}", serde_json::to_string(&c.rpc)?);
    println!(
        "same mix ({} txs): revm {:.0} tx/s, json-rpc {:.0} tx/s, ratio {:.1}x (goal >= 100x)",
        c.revm.transactions, c.revm.tx_per_sec, c.rpc.tx_per_sec, c.ratio
    );
    for n in [100, 1_000, 10_000] {
        let r = run_in_process(n)?;
        println!(
            "revm, {n:>6} stakers: {:>6} txs in {:.2}s = {:.0} tx/s, {:.0} gas/tx",
            r.transactions, r.seconds, r.tx_per_sec, r.gas_per_tx
        );
    }
    Ok(())
}
