//! `verinfer`: deploy, operate, keep, request, simulate and run a local devnet.

mod args;
mod bench;
mod chain;
mod commands;
mod devnet;
mod gov;
mod simfork;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use args::ChainArgs;
use clap::{Args, Parser, Subcommand};

/// verinfer — verifiable AI-inference network: contracts, keeper bots and tools.
#[derive(Parser, Debug)]
#[command(
    name = "verinfer",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  verinfer devnet                       # local end-to-end run with a report\n  verinfer deploy --rpc-url http://127.0.0.1:8545\n  verinfer gov status --proposal 1234...\n  verinfer sim fork --rpc-url http://127.0.0.1:8545 --slash 0xabc...\n  verinfer keeper run --config keeper.toml\n  verinfer request --input hello --fee 1"
)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    /// Log filter (tracing env-filter syntax), e.g. `info,verinfer_keeper=debug` (default: `info`,
    /// `warn` for the devnet so its progress display stays readable).
    #[arg(long, global = true, env = "VERINFER_LOG")]
    log: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Deploy(commands::deploy::DeployCommand),
    /// Governance through VerinferGovernor: propose, vote, queue, execute, status.
    ///
    /// Example: verinfer gov propose --action Staking:setMinOperatorStake(uint256):2000ether --description "raise the minimum stake"
    #[command(subcommand)]
    Gov(GovCmd),
    /// Operator management: register, stake, unstake, rotate-key, serve.
    ///
    /// Example: verinfer operator register --rpc-url http://127.0.0.1:8545 --signer 0xabc... --stake 5000
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Run the keeper bot.
    ///
    /// Example: VERINFER_OPERATOR_KEY=0x... verinfer keeper run --config keeper.toml
    #[command(subcommand)]
    Keeper(KeeperCmd),
    /// Submit an inference request and wait for its result.
    ///
    /// Example: verinfer request --rpc-url http://127.0.0.1:8545 --input "hello" --fee 1
    Request(RequestArgs),
    /// Print the built-in model's identity (model id, weights hash, runtime spec) or run it.
    ///
    /// Example: verinfer model --input "hello"
    Model(ModelArgs),
    /// Print the latest devnet report.
    ///
    /// Example: verinfer report --dir reports
    Report(ReportArgs),
    /// In-process protocol simulation (revm): run a scenario and report legitimacy metrics.
    ///
    /// Example: verinfer sim run scenarios/small.toml --out reports/sim
    #[command(subcommand)]
    Sim(SimCmd),
    /// Start a local anvil devnet: deploy, register operators, run keepers (one misbehaving), drive
    /// traffic, print and save a report.
    ///
    /// Example: verinfer devnet --requests 40 --operators 5
    Devnet(devnet::DevnetArgs),
    /// Benchmarks: keeper throughput, gas and latency per submission mode against a private anvil;
    /// the simulator's revm vs JSON-RPC throughput.
    ///
    /// Example: verinfer bench keeper --requests 256 --batch 32
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

/// How `queue`/`execute` name a proposal: its id (actions recovered from the ProposalCreated
/// event), or the same actions and description it was proposed with.
#[derive(Args, Debug)]
struct ProposalRefArgs {
    /// Proposal id, as printed by `gov propose`; its actions and description are read back from
    /// the governor's ProposalCreated event.
    #[arg(long, conflicts_with_all = ["actions", "description"])]
    proposal: Option<String>,
    /// A proposal action (repeat, in order): `<contract-or-address>:<signature>[:<arg>]...`
    /// or `<contract-or-address>:0x<calldata>`. Contract names come from the deployment manifest.
    #[arg(long = "action", value_name = "TARGET:CALL")]
    actions: Vec<String>,
    /// The proposal's description (exactly as proposed: its hash is part of the id).
    #[arg(long)]
    description: Option<String>,
}

impl ProposalRefArgs {
    fn as_ref(&self) -> gov::ProposalRef<'_> {
        gov::ProposalRef {
            actions: &self.actions,
            description: self.description.as_deref(),
            proposal: self.proposal.as_deref(),
        }
    }
}

#[derive(Subcommand, Debug)]
enum GovCmd {
    /// Propose actions to VerinferGovernor; prints the proposal id and the voting blocks.
    ///
    /// An action is `<target>:<signature>[:<arg>]...` (arguments parsed by the signature's types:
    /// integers, `2000ether`, addresses, `true`, `[1,2]`) or `<target>:0x<calldata>`; `<target>` is a
    /// manifest contract name (`Staking`, `Slasher`, ...) or an address. Actions send no value.
    ///
    /// Example: verinfer gov propose --action Staking:setMinOperatorStake(uint256):2000ether --description "raise the minimum stake"
    Propose {
        #[command(flatten)]
        chain: ChainArgs,
        /// A proposal action (repeat, in order): `<target>:<signature>[:<arg>]...` or `<target>:0x<calldata>`.
        #[arg(long = "action", value_name = "TARGET:CALL", required = true)]
        actions: Vec<String>,
        /// Proposal description (free text; needed again by queue/execute unless --proposal is used).
        #[arg(long)]
        description: String,
    },
    /// Cast the sender's vote (its quadratic voice at the proposal snapshot).
    ///
    /// Example: verinfer gov vote --proposal 1234... --support for --reason "fine by me"
    Vote {
        #[command(flatten)]
        chain: ChainArgs,
        /// Proposal id.
        #[arg(long)]
        proposal: String,
        /// `for`, `against` or `abstain`.
        #[arg(long)]
        support: String,
        /// Optional reason, stored in the VoteCast event.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Queue a succeeded proposal in the timelock; prints when it becomes executable.
    ///
    /// Example: verinfer gov queue --proposal 1234...
    Queue {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        proposal: ProposalRefArgs,
    },
    /// Execute a queued proposal once its timelock delay has passed.
    ///
    /// Example: verinfer gov execute --proposal 1234...
    Execute {
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        proposal: ProposalRefArgs,
    },
    /// Print a proposal's state, votes for/against/abstain, quorum and eta (needs no key).
    ///
    /// Example: verinfer gov status --proposal 1234...
    Status {
        #[command(flatten)]
        chain: ChainArgs,
        /// Proposal id.
        #[arg(long)]
        proposal: String,
    },
}

#[derive(Subcommand, Debug)]
enum OperatorCmd {
    /// Register the sender as an operator with a hot signer key and a self-stake (approves the token).
    ///
    /// Example: verinfer operator register --signer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --stake 5000
    Register {
        #[command(flatten)]
        chain: ChainArgs,
        /// Hot key address that signs attestations.
        #[arg(long)]
        signer: String,
        /// Self-stake in whole tokens.
        #[arg(long)]
        stake: u64,
    },
    /// Delegate (or add self-stake) to an operator.
    ///
    /// Example: verinfer operator stake --operator 0xabc... --amount 100
    Stake {
        #[command(flatten)]
        chain: ChainArgs,
        /// Operator address.
        #[arg(long)]
        operator: String,
        /// Amount in whole tokens.
        #[arg(long)]
        amount: u64,
    },
    /// Queue an unstake of shares from an operator.
    ///
    /// Example: verinfer operator unstake --operator 0xabc... --shares 1000000000000000000
    Unstake {
        #[command(flatten)]
        chain: ChainArgs,
        /// Operator address.
        #[arg(long)]
        operator: String,
        /// Shares (raw units).
        #[arg(long)]
        shares: String,
    },
    /// Re-record the stake of an operator's delegators (and its own) after a slash, with the
    /// permissionless `Staking.syncStake`: until then their governance voice still counts the
    /// slashed tokens. Only accounts whose recorded stake differs from their current value are sent.
    ///
    /// Example: verinfer operator sync --operator 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --dry-run
    Sync {
        #[command(flatten)]
        chain: ChainArgs,
        /// Operator address.
        #[arg(long)]
        operator: String,
        /// Only list the stale records, send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Start a rotation of the sender's operator hot key.
    ///
    /// Example: verinfer operator rotate-key --new-signer 0xdef...
    RotateKey {
        #[command(flatten)]
        chain: ChainArgs,
        /// New hot key address.
        #[arg(long)]
        new_signer: String,
    },
    /// Opt the sender's operator in to serve a model (default: the built-in model).
    ///
    /// Example: verinfer operator serve --model builtin
    Serve {
        #[command(flatten)]
        chain: ChainArgs,
        /// `builtin` or a bytes32 model id.
        #[arg(long, default_value = "builtin")]
        model: String,
    },
}

#[derive(Subcommand, Debug)]
enum SimCmd {
    /// Run a scenario file; prints the summary, writes JSON and SVG plots when --out is given.
    ///
    /// Example: verinfer sim run scenarios/small.toml --out reports/sim
    Run {
        /// Scenario TOML.
        scenario: PathBuf,
        /// Directory for report.json and plots.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Fork a live chain into revm and ask a what-if (nothing is sent): slashing an operator
    /// (--slash), a proposal's effect (--proposal-action / --proposal) or a request batch's gas (--batch).
    ///
    /// Example: verinfer sim fork --rpc-url http://127.0.0.1:8545 --slash 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --kind equivocation
    Fork(simfork::ForkArgs),
}

#[derive(Subcommand, Debug)]
enum KeeperCmd {
    /// Run the keeper until SIGTERM / ctrl-c.
    ///
    /// Example: VERINFER_OPERATOR_KEY=0x... verinfer keeper run --config keeper.toml
    Run {
        /// Keeper TOML config (fields may be overridden by VERINFER_* env vars).
        #[arg(long, env = "VERINFER_KEEPER_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Args, Debug)]
struct RequestArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// `builtin` or a bytes32 model id.
    #[arg(long, default_value = "builtin")]
    model: String,
    /// Input text (sent inline as hex).
    #[arg(long)]
    input: String,
    /// Fee in whole tokens.
    #[arg(long, default_value_t = 1)]
    fee: u64,
    /// Seconds until the answer deadline.
    #[arg(long, default_value_t = 600)]
    deadline_secs: u64,
    /// Seconds to wait for the result (0: don't wait).
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
}

#[derive(Args, Debug)]
struct ModelArgs {
    /// Run the model on this input and print the output and its hash.
    #[arg(long)]
    input: Option<String>,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Directory holding devnet-<ts>.md reports.
    #[arg(long, default_value = "reports")]
    dir: PathBuf,
}

fn init_logs(json: bool, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() {
    let cli = Cli::parse();
    let default_log = if matches!(cli.cmd, Cmd::Devnet(_) | Cmd::Bench(_)) {
        "warn"
    } else {
        "info"
    };
    init_logs(cli.log_json, cli.log.as_deref().unwrap_or(default_log));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli.cmd)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Deploy(c) => c.execute().await,
        Cmd::Gov(c) => governance(c).await,
        Cmd::Sim(SimCmd::Fork(a)) => simfork::run(a).await,
        Cmd::Operator(c) => operator(c).await,
        Cmd::Keeper(KeeperCmd::Run { config }) => keeper_run(&config).await,
        Cmd::Request(a) => chain::request(
            &a.chain,
            &a.model,
            a.input.as_bytes(),
            a.fee,
            a.deadline_secs,
            a.wait_secs,
        )
        .await
        .map(|_| ()),
        Cmd::Model(a) => {
            let m = verinfer_keeper::mlp::IntMlp::default_model();
            println!("model id        {}", m.model_id());
            println!("weights hash    {}", m.weights_hash());
            println!("runtime spec    {}", verinfer_keeper::mlp::RUNTIME_SPEC);
            println!(
                "spec hash       {}",
                verinfer_keeper::mlp::IntMlp::runtime_spec_hash()
            );
            if let Some(input) = a.input {
                let out = m.infer(input.as_bytes());
                println!("output          0x{}", alloy::primitives::hex::encode(&out));
                println!("output hash     {}", alloy::primitives::keccak256(&out));
            }
            Ok(())
        }
        Cmd::Report(a) => report(&a.dir),
        Cmd::Devnet(a) => devnet::run(a).await,
        Cmd::Bench(c) => bench::run(c).await,
        Cmd::Sim(SimCmd::Run {
            scenario,
            out,
            quiet,
        }) => {
            let sc = verinfer_sim::scenario::Scenario::load(&scenario)?;
            let rep = tokio::task::spawn_blocking(move || verinfer_sim::scenario::run(&sc, !quiet))
                .await??;
            println!("{}", rep.summary());
            if let Some(dir) = out {
                std::fs::create_dir_all(&dir)?;
                std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&rep)?)?;
                let plots = verinfer_sim::plot::write_plots(&rep, &dir)?;
                println!(
                    "wrote {} and {} plot(s)",
                    dir.join("report.json").display(),
                    plots.len()
                );
            }
            Ok(())
        }
    }
}

async fn governance(c: GovCmd) -> Result<()> {
    match c {
        GovCmd::Propose {
            chain,
            actions,
            description,
        } => gov::propose(&chain, &actions, &description).await,
        GovCmd::Vote {
            chain,
            proposal,
            support,
            reason,
        } => {
            let support = gov::parse_support(&support)?;
            gov::vote(&chain, &proposal, support, reason.as_deref()).await
        }
        GovCmd::Queue { chain, proposal } => gov::queue(&chain, &proposal.as_ref()).await,
        GovCmd::Execute { chain, proposal } => gov::execute(&chain, &proposal.as_ref()).await,
        GovCmd::Status { chain, proposal } => gov::status(&chain, &proposal).await,
    }
}

async fn operator(c: OperatorCmd) -> Result<()> {
    match c {
        OperatorCmd::Register {
            chain,
            signer,
            stake,
        } => chain::register(&chain, &signer, stake).await,
        OperatorCmd::Stake {
            chain,
            operator,
            amount,
        } => chain::stake(&chain, &operator, amount).await,
        OperatorCmd::Unstake {
            chain,
            operator,
            shares,
        } => chain::unstake(&chain, &operator, &shares).await,
        OperatorCmd::Sync {
            chain,
            operator,
            dry_run,
        } => chain::sync(&chain, &operator, dry_run).await.map(|_| ()),
        OperatorCmd::RotateKey { chain, new_signer } => chain::rotate(&chain, &new_signer).await,
        OperatorCmd::Serve { chain, model } => chain::serve(&chain, &model).await,
    }
}

async fn keeper_run(config: &std::path::Path) -> Result<()> {
    use verinfer_keeper::config::KeeperConfig;
    let cfg = KeeperConfig::load(Some(config))?;
    let key = cfg.load_key().context("loading the operator hot key")?;
    tracing::info!(operator = %cfg.operator, signer = %key.address(), registry = %cfg.registry, "starting keeper");
    let (tx, rx) = tokio::sync::watch::channel(false);
    if let Some(addr) = cfg.metrics_addr {
        let bound = verinfer_keeper::metrics::serve(addr, rx.clone())
            .await
            .with_context(|| format!("binding metrics_addr {addr}"))?;
        tracing::info!(%bound, "metrics and /health listening");
    }
    let keeper = verinfer_keeper::keeper::Keeper::new(cfg, key, "keeper").await?;
    let handle = tokio::spawn(keeper.run(rx));
    shutdown_signal().await;
    tracing::info!("shutdown requested: finishing the current step");
    let _ = tx.send(true);
    handle.await.context("keeper task")??;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn report(dir: &std::path::Path) -> Result<()> {
    let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "md")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("devnet-"))
        })
        .collect();
    reports.sort();
    let Some(last) = reports.last() else {
        bail!("no devnet-*.md report in {}", dir.display())
    };
    print!("{}", std::fs::read_to_string(last)?);
    Ok(())
}
