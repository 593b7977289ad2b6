//! Running a doc's shell blocks as its reader would: every fenced ```` ```sh ```` / ```` ```bash ````
//! block of a markdown file, in order, in one shell session (a block's variables and exports carry
//! over to the next), with the built `verinfer` and the toolchain's `cast`/`anvil` on `PATH`, a
//! fresh `HOME` and working directory, and nothing else of the test's environment.
//!
//! A block the test does not run as a plain command is marked by an HTML comment on the line before
//! it, which a rendered doc does not show:
//! - `<!-- docs-test: skip: REASON -->`: not run (Docker, systemd, …); the reason is required;
//! - `<!-- docs-test: background: WHY -->`: a long-running command (the keeper), started in the
//!   background and stopped by the test.
//!
//! A shell block in a language the runner does not run (`console`, `shell`, `zsh`) must be marked
//! `skip`, and a marker must sit right above a shell block: either otherwise fails the test, so no
//! command in a doc goes unexercised by accident.
//!
//! The values a doc's reader fills in (the RPC URL, a key, a port) are `export NAME=value` lines in
//! the doc; [`DocSession`] replaces the value of each one it is given, and fails if the doc no longer
//! declares it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How the runner treats a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Run to completion; it must succeed.
    Run,
    /// Started in the background (one command line); the test stops it.
    Background,
    /// Not run, for the reason given in the doc.
    Skip(String),
}

/// One fenced shell block of a doc.
#[derive(Debug, Clone)]
pub struct Block {
    /// The doc's line of the opening fence (1-based).
    pub line: usize,
    /// The fence's language (`sh`, `bash`, …).
    pub lang: String,
    /// How it is run.
    pub mark: Mark,
    /// The block's text.
    pub text: String,
}

/// Languages whose blocks are shell commands.
const SHELL_LANGS: [&str; 5] = ["sh", "bash", "shell", "console", "zsh"];
/// Of those, the ones the runner runs (with bash).
const RUN_LANGS: [&str; 2] = ["sh", "bash"];
const MARKER: &str = "<!-- docs-test:";
/// The comment that marks an `export` line as a value the reader fills in.
const YOURS: &str = "# yours";

/// The repository file at `rel`.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The shell blocks of `markdown` (named `doc` in errors), each with its mark; `Err` names a block
/// that would go unexercised unnoticed, or a malformed marker.
pub fn shell_blocks(doc: &str, markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut pending: Option<(usize, Mark)> = None;
    let mut fence: Option<(usize, String, Vec<&str>)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let n = i + 1;
        let t = line.trim_start();
        if let Some((start, lang, body)) = fence.as_mut() {
            if t.starts_with("```") {
                if SHELL_LANGS.contains(&lang.as_str()) {
                    let mark = pending.take().map(|(_, m)| m).unwrap_or(Mark::Run);
                    if !RUN_LANGS.contains(&lang.as_str()) && !matches!(mark, Mark::Skip(_)) {
                        return Err(format!(
                            "{doc}:{start}: a ```{lang} block the test cannot run: write it as ```sh or mark it `{MARKER} skip: REASON -->`"
                        ));
                    }
                    blocks.push(Block {
                        line: *start,
                        lang: lang.clone(),
                        mark,
                        text: body.join("\n"),
                    });
                } else if let Some((at, _)) = pending.take() {
                    return Err(format!(
                        "{doc}:{at}: a docs-test marker above a ```{lang} block, which is not a shell block"
                    ));
                }
                fence = None;
            } else {
                body.push(line);
            }
            continue;
        }
        if let Some(info) = t.strip_prefix("```") {
            let lang = info.split_whitespace().next().unwrap_or("").to_string();
            fence = Some((n, lang, Vec::new()));
            continue;
        }
        if let Some(rest) = t.strip_prefix(MARKER) {
            if let Some((at, _)) = pending {
                return Err(format!(
                    "{doc}:{at}: a docs-test marker not followed by a block"
                ));
            }
            let rest = rest
                .trim()
                .strip_suffix("-->")
                .ok_or_else(|| format!("{doc}:{n}: a docs-test marker without its closing `-->`"))?
                .trim();
            let (kind, why) = rest.split_once(':').unwrap_or((rest, ""));
            let why = why.trim().to_string();
            if why.is_empty() {
                return Err(format!(
                    "{doc}:{n}: a docs-test marker must say why: `{kind}: REASON`"
                ));
            }
            let mark = match kind.trim() {
                "skip" => Mark::Skip(why),
                "background" => Mark::Background,
                other => return Err(format!("{doc}:{n}: unknown docs-test marker `{other}`")),
            };
            pending = Some((n, mark));
            continue;
        }
        if let Some((at, _)) = pending {
            if !t.is_empty() {
                return Err(format!(
                    "{doc}:{at}: a docs-test marker not followed by a block"
                ));
            }
        }
    }
    if let Some((start, ..)) = fence {
        return Err(format!("{doc}:{start}: an unclosed fence"));
    }
    if let Some((at, _)) = pending {
        return Err(format!(
            "{doc}:{at}: a docs-test marker not followed by a block"
        ));
    }
    Ok(blocks)
}

/// `s` quoted for bash.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// One reader's shell session over a doc: a fresh `HOME` and working directory, the blocks' state
/// (their variables, exported) kept in a file between blocks.
pub struct DocSession {
    doc: String,
    /// The scratch root: `home/` and `work/` (the working directory) and the session state.
    pub dir: tempfile::TempDir,
    overrides: BTreeMap<String, String>,
    used: std::collections::BTreeSet<String>,
    unfilled: std::collections::BTreeSet<String>,
    path: String,
}

impl DocSession {
    /// A session for `doc` (a name for messages) whose `export NAME=…` lines get the values in
    /// `overrides` instead of the doc's.
    pub fn new(doc: &str, overrides: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("work")).expect("work");
        std::fs::write(dir.path().join("state.sh"), "").expect("state");
        let bin = Path::new(env!("CARGO_BIN_EXE_verinfer"))
            .parent()
            .expect("the binary's directory")
            .to_path_buf();
        let anvil =
            verinfer_devnet::anvil::find(None).expect("the pinned anvil (run script/setup.sh)");
        let toolchain = anvil
            .parent()
            .expect("the toolchain's directory")
            .to_path_buf();
        let path = format!(
            "{}:{}:/usr/local/bin:/usr/bin:/bin",
            bin.display(),
            toolchain.display()
        );
        Self {
            doc: doc.to_string(),
            dir,
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            used: Default::default(),
            unfilled: Default::default(),
            path,
        }
    }

    /// The working directory the blocks run in.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The session's `HOME`.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `text` with the overridden `export NAME=value` lines given the session's values.
    fn substitute(&mut self, text: &str) -> String {
        text.lines()
            .map(|l| {
                let t = l.trim_start();
                if let Some((name, _)) = t.strip_prefix("export ").and_then(|r| r.split_once('=')) {
                    let name = name.trim();
                    if let Some(v) = self.overrides.get(name) {
                        self.used.insert(name.to_string());
                        return format!("export {name}={}", shell_quote(v));
                    }
                    if t.contains(YOURS) {
                        self.unfilled.insert(name.to_string());
                    }
                }
                l.to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn bash(&self, script: &str) -> Command {
        let mut c = Command::new("bash");
        c.args(["-c", script])
            .current_dir(self.work())
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.home())
            .env("LANG", "C.UTF-8");
        c
    }

    /// The block's text after the session's state, in bash's strict mode, with every variable
    /// exported (as in the reader's one shell).
    fn script(&mut self, b: &Block) -> String {
        let state = self.dir.path().join("state.sh");
        format!(
            "set -euo pipefail\nset -a\nsource {}\n{}",
            shell_quote(&state.to_string_lossy()),
            self.substitute(&b.text)
        )
    }

    /// Runs `b` to completion; panics with its output unless it succeeds. Returns its stdout.
    pub fn run(&mut self, b: &Block) -> String {
        let state = shell_quote(&self.dir.path().join("state.sh").to_string_lossy());
        let script = format!(
            "{}\nexport -p | grep -vE '^declare -x (OLDPWD|PWD|SHLVL|_)=' > {state}.next && mv {state}.next {state}",
            self.script(b)
        );
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .bash(&script)
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&stdout).into_owned();
        assert!(
            status.success(),
            "{}:{}: the ```{} block failed ({status}):\n{}\n--- stdout\n{stdout}\n--- stderr\n{}",
            self.doc,
            b.line,
            b.lang,
            b.text,
            String::from_utf8_lossy(&stderr)
        );
        stdout
    }

    /// Starts `b`, a single command line, in the background (the command replaces the shell, so a
    /// signal to the child reaches it); its stdout and stderr go to `log`.
    pub fn spawn(&mut self, b: &Block, log: &Path) -> Background {
        let lines: Vec<&str> = b
            .text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or("").trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{}:{}: a background block is one command line",
            self.doc,
            b.line
        );
        let exec = Block {
            text: format!("exec {}", lines[0]),
            ..b.clone()
        };
        let script = self.script(&exec);
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        self.bash(&script)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map(Background)
            .expect("spawn bash")
    }

    /// The value of `name` in the session (after the blocks run so far).
    pub fn var(&self, name: &str) -> String {
        let state = shell_quote(&self.dir.path().join("state.sh").to_string_lossy());
        let o = self
            .bash(&format!("source {state}; printf %s \"${{{name}:-}}\""))
            .output()
            .expect("run bash");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Panics unless the doc declared every overridden variable (an `export` the test fills in), and
    /// the test filled in every `export` the doc marks `# yours`.
    pub fn assert_overrides_declared(&self) {
        assert!(
            self.unfilled.is_empty(),
            "{} asks the reader to fill in {:?} (`# yours`), which the test does not",
            self.doc,
            self.unfilled
        );
        let missing: Vec<&String> = self
            .overrides
            .keys()
            .filter(|k| !self.used.contains(*k))
            .collect();
        assert!(
            missing.is_empty(),
            "{} no longer declares `export NAME=…` for {missing:?}, which the test fills in",
            self.doc
        );
    }
}

/// A local TCP address nothing listens on at the moment.
pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

/// A plain HTTP/1.1 GET: (status, the headers, lowercased, and the body).
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, head.to_lowercase(), body.to_string()))
}

/// Polls `f` every 200 ms until it returns `Some`, for at most `secs`; panics with `what` and
/// `context()` at the deadline.
pub fn wait_for<T>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> Option<T>,
    context: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A doc's long-running command; killed if the test ends (or fails) without stopping it.
pub struct Background(pub Child);

impl Background {
    /// Sends SIGTERM and waits (at most `secs`) for the process to exit; its exit status.
    pub fn terminate(&mut self, secs: u64) -> std::process::ExitStatus {
        let pid = self.0.id();
        let ok = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.0.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "pid {pid} did not exit within {secs} s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
