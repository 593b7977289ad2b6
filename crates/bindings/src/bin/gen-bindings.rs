//! `gen-bindings`: recompiles the verinfer contracts with foundry-compilers and writes the minimal
//! artifacts (`crates/bindings/artifacts/<Contract>.json`) plus `src/generated.rs`, the `sol!`
//! invocations over them. `--check` regenerates everything in memory and fails when a committed file
//! is stale, missing or unexpected.
//!
//! The compiler is `$VERINFER_SOLC`, else `$FOUNDRY_SOLC`, else `solc` on `PATH` (a native solc or the
//! solc-js shim: both speak `--version` and `--standard-json`). Compiler settings (source dir,
//! remappings, optimizer runs, EVM version, metadata hash, CBOR) are read from `foundry.toml`
//! `[profile.default]` so the bytecode is the one forge deploys.
//!
//! Usage: `gen-bindings --root <repo> [--check]` (normally through `script/gen-bindings.sh`).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    path::{Component, Path, PathBuf},
    process::ExitCode,
};

use foundry_compilers::solc::Solc;
use serde_json::{json, Value};

/// Contracts with bytecode (deployable), in deployment order. Missing ones are skipped with a note.
const DEPLOYABLE: &[&str] = &[
    "VerinferToken",
    "Staking",
    "Slasher",
    "InferenceRegistry",
    "QuadraticVotes",
    "IdentityRegistry",
    "TimelockController",
    "VerinferGovernor",
    "DisputeGovernor",
    "Referee",
];

/// Contracts whose ABI is merged into a deployable's: `InferenceRegistry` answers its view contract's and its
/// modules' selectors through its fallback (`delegatecall`), so its binding carries their functions too and
/// callers of e.g. `InferenceRegistry::requestCall` keep working. The modules are deployed by the registry's
/// constructor (their bytecode is inside the registry's), so they get no artifact of their own.
const MERGED: &[(&str, &[&str])] = &[(
    "InferenceRegistry",
    &[
        "InferenceRegistryView",
        "InferenceRegistryAdmin",
        "InferenceRegistryDelivery",
    ],
)];

/// Example contracts that a devnet or a dApp deploys on its own (not part of the suite's deployment).
const EXAMPLES: &[&str] = &["ClassifierConsumer", "TextStore", "ScriptedConsumer"];

/// Interfaces whose ABI alone is exported (their errors/events decode any implementation's), and
/// `JurorPool`, which `DisputeGovernor`'s constructor deploys (its address is `DisputeGovernor.jurorPool()`).
const INTERFACES: &[&str] = &[
    "JurorPool",
    "IInferenceConsumer",
    "IStaking",
    "ISlasher",
    "IDisputeResolver",
    "IDisputeReceiver",
    "IAccountStakeObserver",
    "IOperatorObserver",
];

/// Library entry points compiled even when nothing in `contracts/` imports them yet.
const EXTRA_SOURCES: &[&str] = &["@openzeppelin/contracts/governance/TimelockController.sol"];

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("gen-bindings: error: {err}");
            ExitCode::FAILURE
        }
    }
}

struct Args {
    root: PathBuf,
    check: bool,
}

fn parse_args() -> Result<Args, Error> {
    let mut root = None;
    let mut check = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--root" => root = Some(PathBuf::from(it.next().ok_or("--root needs a path")?)),
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: gen-bindings --root <repo> [--check]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let root = match root {
        Some(r) => r,
        None => std::env::current_dir()?,
    };
    Ok(Args {
        root: root
            .canonicalize()
            .map_err(|e| format!("--root {}: {e}", root.display()))?,
        check,
    })
}

/// The subset of `foundry.toml` `[profile.default]` that decides the bytecode.
struct FoundryProfile {
    src: String,
    remappings: Vec<(String, String)>,
    optimizer: bool,
    optimizer_runs: u64,
    evm_version: String,
    bytecode_hash: String,
    cbor_metadata: bool,
    via_ir: bool,
}

fn read_profile(root: &Path) -> Result<FoundryProfile, Error> {
    let file = root.join("foundry.toml");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let profile = doc
        .get("profile")
        .and_then(|p| p.get("default"))
        .and_then(|p| p.as_table())
        .ok_or_else(|| format!("{}: missing [profile.default]", file.display()))?;
    let str_field = |name: &str, default: &str| -> Result<String, Error> {
        match profile.get(name) {
            None => Ok(default.to_owned()),
            Some(v) => v.as_str().map(str::to_owned).ok_or_else(|| {
                format!(
                    "{}: profile.default.{name} must be a string",
                    file.display()
                )
                .into()
            }),
        }
    };
    let bool_field = |name: &str, default: bool| -> Result<bool, Error> {
        match profile.get(name) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| {
                format!(
                    "{}: profile.default.{name} must be a boolean",
                    file.display()
                )
                .into()
            }),
        }
    };
    let mut remappings = Vec::new();
    if let Some(list) = profile.get("remappings") {
        let list = list.as_array().ok_or_else(|| {
            format!(
                "{}: profile.default.remappings must be a list",
                file.display()
            )
        })?;
        for (i, r) in list.iter().enumerate() {
            let r = r
                .as_str()
                .ok_or_else(|| format!("{}: profile.default.remappings[{i}]", file.display()))?;
            let (from, to) = r.split_once('=').ok_or_else(|| {
                format!(
                    "{}: profile.default.remappings[{i}] has no `=`",
                    file.display()
                )
            })?;
            remappings.push((from.to_owned(), to.to_owned()));
        }
    }
    let optimizer_runs = match profile.get("optimizer_runs") {
        None => 200,
        Some(v) => v
            .as_integer()
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| format!("{}: profile.default.optimizer_runs", file.display()))?,
    };
    Ok(FoundryProfile {
        src: str_field("src", "src")?,
        remappings,
        optimizer: bool_field("optimizer", true)?,
        optimizer_runs,
        evm_version: str_field("evm_version", "cancun")?,
        bytecode_hash: str_field("bytecode_hash", "ipfs")?,
        cbor_metadata: bool_field("cbor_metadata", true)?,
        via_ir: bool_field("via_ir", false)?,
    })
}

/// Drops `.` and folds `..` without touching the file system (source unit names are virtual).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Removes `//` and `/* */` comments so commented-out imports are ignored.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut in_str: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = in_str {
            out.push(b as char);
            if b == q {
                in_str = None;
            }
            i += 1;
        } else if b == b'"' || b == b'\'' {
            in_str = Some(b);
            out.push(b as char);
            i += 1;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else {
            out.push(b as char);
            i += 1;
        }
    }
    out
}

/// The import paths named by `import` statements of a Solidity source.
fn imports(src: &str) -> Vec<String> {
    let clean = strip_comments(src);
    let mut found = Vec::new();
    for stmt in clean.split(';') {
        let stmt = stmt.trim_start();
        if !stmt.starts_with("import") {
            continue;
        }
        let rest = &stmt["import".len()..];
        if let Some(start) = rest.find(['"', '\'']) {
            let quote = &rest[start..start + 1];
            if let Some(len) = rest[start + 1..].find(quote) {
                found.push(rest[start + 1..start + 1 + len].to_owned());
            }
        }
    }
    found
}

fn apply_remappings(import: &str, remappings: &[(String, String)]) -> String {
    // Longest matching prefix wins, as in solc.
    remappings
        .iter()
        .filter(|(from, _)| import.starts_with(from.as_str()))
        .max_by_key(|(from, _)| from.len())
        .map(|(from, to)| format!("{to}{}", &import[from.len()..]))
        .unwrap_or_else(|| import.to_owned())
}

/// Collects every source reachable from the `.sol` files under `src_dir` and the extra entry
/// points, keyed by source unit name (relative to the root, after remappings).
fn collect_sources(
    root: &Path,
    profile: &FoundryProfile,
) -> Result<BTreeMap<String, String>, Error> {
    let mut queue: Vec<String> = Vec::new();
    let mut stack = vec![root.join(&profile.src)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sol") {
                let rel = path
                    .strip_prefix(root)?
                    .to_string_lossy()
                    .replace('\\', "/");
                queue.push(rel);
            }
        }
    }
    for extra in EXTRA_SOURCES {
        queue.push(apply_remappings(extra, &profile.remappings));
    }
    let mut sources = BTreeMap::new();
    while let Some(name) = queue.pop() {
        if sources.contains_key(&name) {
            continue;
        }
        let file = root.join(&name);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("source {name} ({}): {e}", file.display()))?;
        for imp in imports(&text) {
            let unit = if imp.starts_with("./") || imp.starts_with("../") {
                let parent = Path::new(&name).parent().unwrap_or(Path::new(""));
                normalize(&parent.join(&imp))
                    .to_string_lossy()
                    .replace('\\', "/")
            } else {
                apply_remappings(&imp, &profile.remappings)
            };
            if !sources.contains_key(&unit) {
                queue.push(unit);
            }
        }
        sources.insert(name, text);
    }
    Ok(sources)
}

fn standard_json(sources: &BTreeMap<String, String>, profile: &FoundryProfile) -> Value {
    let sources: serde_json::Map<String, Value> = sources
        .iter()
        .map(|(k, v)| (k.clone(), json!({ "content": v })))
        .collect();
    let remappings: Vec<String> = profile
        .remappings
        .iter()
        .map(|(f, t)| format!("{f}={t}"))
        .collect();
    json!({
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": remappings,
            "optimizer": { "enabled": profile.optimizer, "runs": profile.optimizer_runs },
            "evmVersion": profile.evm_version,
            "viaIR": profile.via_ir,
            "metadata": { "bytecodeHash": profile.bytecode_hash, "appendCBOR": profile.cbor_metadata },
            "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } }
        }
    })
}

/// Finds contract `name` in the compiler output; prefers the project's sources over libraries.
fn find_contract<'a>(output: &'a Value, name: &str, src_dir: &str) -> Option<&'a Value> {
    let contracts = output.get("contracts")?.as_object()?;
    let mut hits: Vec<(&String, &Value)> = contracts
        .iter()
        .filter_map(|(file, cs)| cs.get(name).map(|c| (file, c)))
        .collect();
    hits.sort_by_key(|(file, _)| !file.starts_with(src_dir));
    hits.first().map(|(_, c)| *c)
}

fn hex_object(contract: &Value, key: &str) -> String {
    let obj = contract
        .get("evm")
        .and_then(|e| e.get(key))
        .and_then(|b| b.get("object"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if obj.starts_with("0x") {
        obj.to_owned()
    } else {
        format!("0x{obj}")
    }
}

/// One generated file: repository-relative path and its full text.
type Generated = BTreeMap<PathBuf, String>;

fn generate(root: &Path) -> Result<(Generated, Vec<String>), Error> {
    let profile = read_profile(root)?;
    let sources = collect_sources(root, &profile)?;
    let input = standard_json(&sources, &profile);

    let solc_path = std::env::var("VERINFER_SOLC")
        .or_else(|_| std::env::var("FOUNDRY_SOLC"))
        .unwrap_or_else(|_| "solc".to_owned());
    let mut solc = Solc::new(&solc_path).map_err(|e| format!("compiler {solc_path}: {e}"))?;
    solc.base_path = Some(root.to_path_buf());
    solc.allow_paths.insert(root.to_path_buf());
    for lib in ["node_modules"] {
        if let Ok(real) = root.join(lib).canonicalize() {
            solc.allow_paths.insert(real);
        }
    }
    eprintln!(
        "gen-bindings: compiling {} sources with {} ({})",
        sources.len(),
        solc_path,
        solc.version
    );
    let output: Value = solc
        .compile_as(&input)
        .map_err(|e| format!("compiler {solc_path}: {e}"))?;

    let mut errors = String::new();
    for err in output
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if err.get("severity").and_then(Value::as_str) == Some("error") {
            let msg = err
                .get("formattedMessage")
                .or_else(|| err.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("unknown compiler error");
            let _ = writeln!(errors, "{msg}");
        }
    }
    if !errors.is_empty() {
        return Err(format!("compilation failed:\n{errors}").into());
    }

    let mut files = Generated::new();
    let mut notes = Vec::new();
    let mut present: Vec<Present> = Vec::new();
    let src_dir = format!("{}/", profile.src);
    for (names, deployable, listed) in [
        (DEPLOYABLE, true, true),
        (EXAMPLES, true, false),
        (INTERFACES, false, false),
    ] {
        for name in names {
            let Some(contract) = find_contract(&output, name, &src_dir) else {
                notes.push(format!("skipped {name}: not in the sources yet"));
                continue;
            };
            let mut abi = contract.get("abi").cloned().unwrap_or_else(|| json!([]));
            for (target, parts) in MERGED {
                if target == name {
                    for part in *parts {
                        let module = find_contract(&output, part, &src_dir)
                            .ok_or_else(|| format!("{part} (merged into {name}) not found"))?;
                        merge_abi(&mut abi, module.get("abi").unwrap_or(&json!([])));
                    }
                }
            }
            let artifact = if deployable {
                json!({
                    "abi": abi,
                    "bytecode": { "object": hex_object(contract, "bytecode") },
                    "deployedBytecode": { "object": hex_object(contract, "deployedBytecode") },
                })
            } else {
                json!({ "abi": abi })
            };
            let mut text = serde_json::to_string_pretty(&artifact)?;
            text.push('\n');
            files.insert(
                PathBuf::from(format!("crates/bindings/artifacts/{name}.json")),
                text,
            );
            present.push(Present {
                name,
                deployable,
                listed,
            });
        }
    }
    files.insert(
        PathBuf::from("crates/bindings/src/generated.rs"),
        generated_rs(&present),
    );
    Ok((files, notes))
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && chars[i - 1].is_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// Appends to `abi` every function, event and error of `extra` it does not already have (same type, name
/// and input types); constructors, fallbacks and receive functions of `extra` are skipped.
fn merge_abi(abi: &mut Value, extra: &Value) {
    let key = |item: &Value| -> Option<String> {
        let kind = item.get("type")?.as_str()?;
        if !matches!(kind, "function" | "event" | "error") {
            return None;
        }
        let inputs: Vec<String> = item
            .get("inputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|i| {
                i.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        Some(format!(
            "{kind} {}({})",
            item.get("name")?.as_str()?,
            inputs.join(",")
        ))
    };
    let Some(items) = abi.as_array_mut() else {
        return;
    };
    let mut seen: BTreeSet<String> = items.iter().filter_map(key).collect();
    for item in extra.as_array().into_iter().flatten() {
        if let Some(k) = key(item) {
            if seen.insert(k) {
                items.push(item.clone());
            }
        }
    }
}

/// A contract found in the compiler output.
struct Present {
    name: &'static str,
    deployable: bool,
    listed: bool, // part of the suite's deployment (`DEPLOYABLE`)
}

fn generated_rs(present: &[Present]) -> String {
    let mut s = String::from(
        "// @generated by `script/gen-bindings.sh` (crates/bindings/src/bin/gen-bindings.rs). Do not edit.\n\n",
    );
    for Present {
        name, deployable, ..
    } in present
    {
        let module = snake(name);
        let kind = if *deployable { "contract" } else { "interface" };
        let _ = write!(
            s,
            "/// Bindings for the `{name}` {kind} (artifact `artifacts/{name}.json`).\n\
             pub mod {module} {{\n    \
                 alloy::sol!(\n        \
                     #[sol(rpc)]\n        \
                     #[derive(Debug, PartialEq, Eq)]\n        \
                     #[allow(missing_docs, clippy::too_many_arguments)]\n        \
                     {name},\n        \
                     \"artifacts/{name}.json\"\n    \
                 );\n\
             }}\n\
             pub use {module}::{name};\n\n"
        );
    }
    let deployables: Vec<&str> = present
        .iter()
        .filter(|p| p.listed)
        .map(|p| p.name)
        .collect();
    let _ = write!(
        s,
        "/// Names of the deployable contracts whose artifacts are present, in deployment order.\n\
         pub const DEPLOYABLE: &[&str] = &{deployables:?};\n\n"
    );
    s.push_str(
        "/// Every contract's and interface's artifact (`artifacts/<Name>.json`, ABI and bytecode) by name, in\n\
         /// the order of the modules above: what [`crate::decode`] reads the ABIs of errors and functions from.\n\
         pub const ARTIFACTS: &[(&str, &str)] = &[\n",
    );
    for p in present {
        let name = p.name;
        let _ = writeln!(
            s,
            "    (\"{name}\", include_str!(\"../artifacts/{name}.json\")),"
        );
    }
    s.push_str("];\n");
    s
}

fn run() -> Result<ExitCode, Error> {
    let args = parse_args()?;
    let (files, notes) = generate(&args.root)?;
    for note in &notes {
        eprintln!("gen-bindings: note: {note}");
    }
    let artifacts_dir = args.root.join("crates/bindings/artifacts");
    let existing: BTreeSet<PathBuf> = match std::fs::read_dir(&artifacts_dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| p.strip_prefix(&args.root).ok().map(Path::to_path_buf))
            .collect(),
        Err(_) => BTreeSet::new(),
    };
    let unexpected: Vec<&PathBuf> = existing
        .iter()
        .filter(|p| !files.contains_key(*p))
        .collect();

    if args.check {
        let mut problems = Vec::new();
        for (rel, text) in &files {
            match std::fs::read_to_string(args.root.join(rel)) {
                Ok(old) if old == *text => {}
                Ok(_) => problems.push(format!("stale:      {}", rel.display())),
                Err(_) => problems.push(format!("missing:    {}", rel.display())),
            }
        }
        for rel in unexpected {
            problems.push(format!(
                "unexpected: {} (no such contract in the sources)",
                rel.display()
            ));
        }
        if problems.is_empty() {
            eprintln!("gen-bindings: {} files up to date", files.len());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("gen-bindings: committed bindings are out of date; run script/gen-bindings.sh:");
        for p in problems {
            eprintln!("  {p}");
        }
        return Ok(ExitCode::FAILURE);
    }

    std::fs::create_dir_all(&artifacts_dir)?;
    for rel in unexpected {
        std::fs::remove_file(args.root.join(rel))?;
        eprintln!("gen-bindings: removed {}", rel.display());
    }
    let mut written = 0;
    for (rel, text) in &files {
        let path = args.root.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("gen-bindings: wrote {}", rel.display());
            written += 1;
        }
    }
    eprintln!("gen-bindings: {written} of {} files changed", files.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_named_and_plain_imports_but_not_commented_ones() {
        let src = r#"
            import {A} from "./A.sol";
            // import {B} from "./B.sol";
            /* import "./C.sol"; */
            import "@openzeppelin/contracts/x.sol";
        "#;
        assert_eq!(
            imports(src),
            vec!["./A.sol", "@openzeppelin/contracts/x.sol"]
        );
    }

    #[test]
    fn snake_case_module_names() {
        assert_eq!(snake("IStaking"), "i_staking");
        assert_eq!(snake("VerinferToken"), "verinfer_token");
        assert_eq!(snake("TimelockController"), "timelock_controller");
    }
}
