//! `verinfer model`: an integer MLP file's identity, a run of it, its accuracy on a test split, its
//! registration on chain. Without a subcommand: the built-in model (the digits classifier).

use std::path::{Path, PathBuf};
use std::time::Instant;

use alloy::primitives::{hex, keccak256, B256, U256};
use alloy::sol_types::SolEvent;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use verinfer_bindings::units::parse_amount;
use verinfer_bindings::InferenceRegistry;
use verinfer_devnet::ModelConfig;
use verinfer_mlp::dataset::{evaluate, TestSplit};
use verinfer_mlp::{IntMlp, RUNTIME_SPEC};

use crate::args::ChainArgs;
use crate::output::{amount, receipt, OutputArgs};

/// Integer MLP files: identity, run, eval, register. Without a subcommand, the built-in model's
/// identity (and a run of it with --input).
///
/// Example: verinfer model eval models/digits/digits.vimlp
#[derive(Args, Debug)]
pub struct ModelCommand {
    #[command(subcommand)]
    command: Option<ModelSubcommand>,
    /// Run the built-in model on this input: `0x`-hex, `@file` (raw bytes) or text.
    #[arg(long)]
    input: Option<String>,
    #[command(flatten)]
    out: OutputArgs,
}

/// What to do with a model file.
#[derive(Subcommand, Debug)]
pub enum ModelSubcommand {
    /// Print a model file's id, weights root, runtime spec and layers.
    ///
    /// Example: verinfer model info models/digits/digits.vimlp
    Info {
        /// The model file (default: the built-in model).
        file: Option<PathBuf>,
    },
    /// Run a model file on one input and print the output, its hash and the decoded class.
    ///
    /// Example: verinfer model run models/digits/digits.vimlp --input @digit.bin
    Run {
        /// The model file.
        file: PathBuf,
        /// The input: `0x`-hex, `@file` (raw bytes) or text.
        #[arg(long)]
        input: String,
    },
    /// Accuracy of a model file on a labelled test split, and its inferences per second.
    ///
    /// Example: verinfer model eval models/digits/digits.vimlp --runs 5
    Eval {
        /// The model file.
        file: PathBuf,
        /// Test split (`label,p0,...` CSV; default: the committed digits test split).
        #[arg(long)]
        split: Option<PathBuf>,
        /// Timed passes over the split for the inferences-per-second figure.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Register a model file on the InferenceRegistry (the sender must hold its admin role: the
    /// deployer on a devnet, the timelock through governance elsewhere).
    ///
    /// Example: VERINFER_PRIVATE_KEY=0x... verinfer model register models/digits/digits.vimlp --k 3 --q 2
    Register(Box<RegisterArgs>),
}

/// `verinfer model register`'s arguments.
#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// The model file.
    file: PathBuf,
    /// Chain and sender.
    #[command(flatten)]
    chain: ChainArgs,
    /// Operators assigned per request.
    #[arg(long, default_value_t = ModelConfig::devnet().k)]
    k: u8,
    /// Matching answers for quorum.
    #[arg(long, default_value_t = ModelConfig::devnet().q)]
    q: u8,
    /// Challenge window, seconds.
    #[arg(long, default_value_t = ModelConfig::devnet().challenge_window)]
    challenge_window: u32,
    /// Smallest operator stake, tokens (`1000`, `0.5ether`, ...).
    #[arg(long, default_value = "1000", value_parser = parse_amount)]
    min_stake: U256,
    /// Challenge bond, tokens.
    #[arg(long, default_value = "10", value_parser = parse_amount)]
    challenge_bond: U256,
    /// Smallest fee, tokens.
    #[arg(long, default_value = "0.01", value_parser = parse_amount)]
    min_fee: U256,
}

/// Parses an `--input`: `0x`-prefixed hex, `@path` (the file's raw bytes), or else the text's bytes.
pub fn parse_input(s: &str) -> Result<Vec<u8>> {
    if let Some(path) = s.strip_prefix('@') {
        return std::fs::read(path).with_context(|| format!("--input: cannot read {path}"));
    }
    if let Some(h) = s.strip_prefix("0x") {
        return hex::decode(h).map_err(|e| anyhow!("--input: `{s}` is not hex: {e}"));
    }
    Ok(s.as_bytes().to_vec())
}

fn load(file: Option<&Path>) -> Result<IntMlp> {
    Ok(match file {
        Some(f) => IntMlp::load(f)?,
        None => IntMlp::builtin()?,
    })
}

/// A model's identity, as `model info --json` prints it.
fn info_json(m: &IntMlp) -> Value {
    let (lo, hi) = m.input_range();
    json!({
        "modelId": m.model_id(),
        "weightsRoot": m.weights_root(),
        "runtimeSpec": RUNTIME_SPEC,
        "specHash": IntMlp::runtime_spec_hash(),
        "inputLen": m.input_len(),
        "inputRange": [lo, hi],
        "layers": m.layers().iter().map(|l| json!({
            "inputs": l.inputs(),
            "outputs": l.outputs(),
            "shift": l.shift(),
            "activation": format!("{:?}", l.activation()),
        })).collect::<Vec<_>>(),
    })
}

fn print_info(m: &IntMlp) {
    println!("model id        {}", m.model_id());
    println!("weights root    {}", m.weights_root());
    println!("runtime spec    {RUNTIME_SPEC}");
    println!("spec hash       {}", IntMlp::runtime_spec_hash());
    let (lo, hi) = m.input_range();
    println!(
        "input           {} bytes, values {lo}..={hi}",
        m.input_len()
    );
    for (i, l) in m.layers().iter().enumerate() {
        println!(
            "layer {i}         dense {}x{} shift {} {:?}",
            l.inputs(),
            l.outputs(),
            l.shift(),
            l.activation()
        );
    }
}

/// Runs `m` on `input`: the human lines, or with `--json` the run as an object.
fn run(m: &IntMlp, input: &str, out: OutputArgs) -> Result<Value> {
    let input = parse_input(input)?;
    let output = m.infer(&input)?;
    let prediction = m.decode(&output)?;
    out.line(format!("output          0x{}", hex::encode(&output)));
    out.line(format!("output hash     {}", keccak256(&output)));
    out.line(format!("prediction      {prediction}"));
    Ok(json!({
        "output": alloy::primitives::Bytes::from(output.clone()),
        "outputHash": keccak256(&output),
        "prediction": prediction.to_string(),
    }))
}

impl ModelCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let out = self.out;
        let Some(cmd) = self.command else {
            let m = IntMlp::builtin()?;
            let mut v = info_json(&m);
            if !out.json {
                print_info(&m);
            }
            if let Some(input) = self.input {
                v["run"] = run(&m, &input, out)?;
            }
            out.result(&v);
            return Ok(());
        };
        if self.input.is_some() {
            bail!("--input goes after `run <file>` when a subcommand is given");
        }
        let v = match cmd {
            ModelSubcommand::Info { file } => {
                let m = load(file.as_deref())?;
                if !out.json {
                    print_info(&m);
                }
                info_json(&m)
            }
            ModelSubcommand::Run { file, input } => {
                let m = load(Some(&file))?;
                let mut v = run(&m, &input, out)?;
                v["modelId"] = json!(m.model_id());
                v
            }
            ModelSubcommand::Eval { file, split, runs } => {
                eval(&file, split.as_deref(), runs, out)?
            }
            ModelSubcommand::Register(a) => {
                let params = ModelConfig {
                    k: a.k,
                    q: a.q,
                    challenge_window: a.challenge_window,
                    min_stake: a.min_stake,
                    challenge_bond: a.challenge_bond,
                    min_fee: a.min_fee,
                }
                .params();
                register(&a.file, &a.chain, params, out).await?
            }
        };
        out.result(&v);
        Ok(())
    }
}

fn eval(file: &Path, split: Option<&Path>, runs: usize, out: OutputArgs) -> Result<Value> {
    let m = IntMlp::load(file)?;
    let split = match split {
        Some(p) => TestSplit::load(p)?,
        None => TestSplit::digits()?,
    };
    let e = evaluate(&m, &split)?;
    out.line(format!(
        "accuracy        {:.2} % ({} of {} test images)",
        100.0 * e.accuracy(),
        e.correct(),
        split.len()
    ));
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let again = evaluate(&m, &split)?;
        let secs = t.elapsed().as_secs_f64();
        if again != e {
            bail!("two passes over the split disagree: the runtime is not deterministic");
        }
        rates.push(split.len() as f64 / secs.max(1e-9));
    }
    rates.sort_by(f64::total_cmp);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut v = json!({
        "modelId": m.model_id(),
        "accuracy": e.accuracy(),
        "correct": e.correct(),
        "total": split.len(),
        "profile": profile,
    });
    if let (Some(lo), Some(hi)) = (rates.first(), rates.last()) {
        let median = rates[rates.len() / 2];
        out.line(format!(
            "inferences/s    {median:.0} median over {runs} passes of {} (min {lo:.0}, max {hi:.0}; this build's profile: {profile})",
            split.len(),
        ));
        v["inferencesPerSecond"] = json!({"median": median, "min": lo, "max": hi, "runs": runs});
    }
    Ok(v)
}

async fn register(
    file: &Path,
    chain: &ChainArgs,
    params: verinfer_keeper::registry::ModelParams,
    out: OutputArgs,
) -> Result<Value> {
    let m = IntMlp::load(file)?;
    let id = m.model_id();
    let (k, q, challenge_window) = (params.k, params.q, params.challengeWindow);
    let (min_stake, challenge_bond, min_fee) =
        (params.minStake, params.challengeBond, params.minFee);
    let client = chain.connect().await?;
    let r = client
        .send(
            "registerModel",
            client.contract("InferenceRegistry")?,
            &InferenceRegistry::registerModelCall {
                weightsHash: m.weights_root(),
                runtimeSpecHash: IntMlp::runtime_spec_hash(),
                params,
            },
        )
        .await?;
    let registered = r
        .inner
        .logs()
        .iter()
        .find_map(|l| InferenceRegistry::ModelRegistered::decode_log_data(l.data()).ok())
        .ok_or_else(|| anyhow!("registerModel succeeded but emitted no ModelRegistered"))?;
    if registered.modelId != id {
        bail!(
            "the registry assigned {} but the file's id is {id}",
            registered.modelId
        );
    }
    out.line(format!(
        "registered model {id} (tx {}, gas {})",
        r.transaction_hash, r.gas_used
    ));
    Ok(json!({
        "modelId": id,
        "weightsRoot": m.weights_root(),
        "specHash": IntMlp::runtime_spec_hash(),
        "k": k,
        "q": q,
        "challengeWindow": challenge_window,
        "minStake": amount(min_stake),
        "challengeBond": amount(challenge_bond),
        "minFee": amount(min_fee),
        "receipt": receipt(&r),
    }))
}

/// Resolves a `--model` argument: `builtin` (the built-in model's id) or a bytes32 model id.
pub fn model_id(model: &str) -> Result<B256> {
    if model == "builtin" {
        return Ok(IntMlp::builtin()?.model_id());
    }
    model
        .parse()
        .map_err(|_| anyhow!("--model: `{model}` is neither `builtin` nor a bytes32 model id"))
}

/// A human-readable form of `output`: the built-in model's prediction when `model` is `builtin`, the
/// text when the bytes are UTF-8, else hex.
pub fn describe_output(model: &str, output: &[u8]) -> String {
    if model == "builtin" {
        if let Some(p) = IntMlp::builtin().ok().and_then(|m| m.decode(output).ok()) {
            return p.to_string();
        }
    }
    match std::str::from_utf8(output) {
        Ok(text) if !text.is_empty() => format!("{text:?}"),
        _ => format!("0x{}", hex::encode(output)),
    }
}
