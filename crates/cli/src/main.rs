//! `verinfer`: deploy, operate, keep, request, simulate and run a local devnet. This binary holds
//! commands only (one module each under [`commands`]); the work is done by the libraries.

mod args;
mod commands;
mod output;

use std::io::IsTerminal;

use clap::{CommandFactory, Parser, Subcommand};

use commands::{
    bench::BenchCommand, deploy::DeployCommand, devnet::DevnetCommand, gov::GovCommand,
    keeper::KeeperCommand, model::ModelCommand, operator::OperatorCommand, report::ReportCommand,
    request::RequestCommand, sim::SimCommand,
};

/// verinfer — verifiable AI-inference network: contracts, keeper bots and tools.
/// `verinfer --version`: the crate version and the git revision it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("VERINFER_GIT_REV"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "verinfer",
    version = VERSION,
    about,
    long_about = None,
    after_help = "Examples:\n  verinfer devnet                       # local end-to-end run with a report\n  verinfer deploy --rpc-url http://127.0.0.1:8545\n  verinfer gov status --proposal 1234...\n  verinfer sim fork --rpc-url http://127.0.0.1:8545 --slash 0xabc...\n  verinfer keeper run --config keeper.toml\n  verinfer model eval models/digits/digits.vimlp\n  verinfer request --input @digit.bin --fee 1"
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
    cmd: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Deploy the suite to any RPC and write deployments/<chainId>.json. Every admin role then goes
    /// to the timelock (governance) and the deployer renounces its own, unless --keep-admin.
    ///
    /// Example: VERINFER_PRIVATE_KEY=0x... verinfer deploy --rpc-url http://127.0.0.1:8545 --confirmations 1
    Deploy(DeployCommand),
    /// Governance through VerinferGovernor: propose, vote, queue, execute, status.
    ///
    /// Example: verinfer gov propose --action Staking:setMinOperatorStake(uint256):2000ether --description "raise the minimum stake"
    #[command(subcommand)]
    Gov(GovCommand),
    /// Operator management: register, stake, unstake, sync, rotate-key, serve.
    ///
    /// Example: verinfer operator register --rpc-url http://127.0.0.1:8545 --signer 0xabc... --stake 5000
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Run the keeper bot.
    ///
    /// Example: VERINFER_OPERATOR_KEY=0x... verinfer keeper run --config keeper.toml
    #[command(subcommand)]
    Keeper(KeeperCommand),
    /// Submit an inference request and wait for its result.
    ///
    /// Example: verinfer request --rpc-url http://127.0.0.1:8545 --input @digit.bin --fee 1
    Request(RequestCommand),
    /// Integer MLP files: identity (model id, weights root, runtime spec), run, eval, register.
    ///
    /// Example: verinfer model eval models/digits/digits.vimlp
    Model(ModelCommand),
    /// Print the latest devnet report.
    ///
    /// Example: verinfer report --dir reports
    Report(ReportCommand),
    /// In-process protocol simulation (revm): run a scenario and report legitimacy metrics.
    ///
    /// Example: verinfer sim run scenarios/small.toml --out reports/sim
    #[command(subcommand)]
    Sim(SimCommand),
    /// Start a local anvil devnet: deploy, register operators, run keepers (one misbehaving), drive
    /// traffic, print and save a report.
    ///
    /// Example: verinfer devnet --requests 40 --operators 5
    Devnet(DevnetCommand),
    /// Benchmarks: keeper throughput, gas and latency per submission mode against a private anvil;
    /// the simulator's revm vs JSON-RPC throughput.
    ///
    /// Example: verinfer bench keeper --requests 256 --batch 32
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a shell completion script.
    ///
    /// Example: verinfer completions bash > /etc/bash_completion.d/verinfer
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Command {
    async fn execute(self) -> anyhow::Result<()> {
        match self {
            Self::Deploy(c) => c.execute().await,
            Self::Gov(c) => c.execute().await,
            Self::Operator(c) => c.execute().await,
            Self::Keeper(c) => c.execute().await,
            Self::Request(c) => c.execute().await,
            Self::Model(c) => c.execute().await,
            Self::Report(c) => c.execute().await,
            Self::Sim(c) => c.execute().await,
            Self::Devnet(c) => c.execute().await,
            Self::Bench(c) => c.execute().await,
            Self::Completions { shell } => {
                use std::io::Write;
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "verinfer", &mut script);
                match std::io::stdout().write_all(&script) {
                    // A reader that stops early (`| head`) is not an error.
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// Starts logging to stderr (colour only on a terminal); an invalid filter is an error.
fn init_logs(json: bool, filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("invalid --log filter `{filter}`: {e}"))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let default_log = if matches!(cli.cmd, Command::Devnet(_) | Command::Bench(_)) {
        "warn"
    } else {
        "info"
    };
    if let Err(e) = init_logs(cli.log_json, cli.log.as_deref().unwrap_or(default_log)) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
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
    if let Err(e) = rt.block_on(cli.cmd.execute()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
