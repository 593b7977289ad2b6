//! Embeds the git revision in `verinfer --version` (`VERINFER_GIT_REV`: short hash, `-dirty` when the
//! work tree has changes; `unknown` outside a git checkout, e.g. a source tarball).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let rev = git(&["rev-parse", "--short=12", "HEAD"]).map(|rev| {
        let dirty =
            git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        if dirty {
            format!("{rev}-dirty")
        } else {
            rev
        }
    });
    println!(
        "cargo:rustc-env=VERINFER_GIT_REV={}",
        rev.unwrap_or_else(|| "unknown".into())
    );
    // Re-run when HEAD moves (a commit or a checkout) or the index changes (dirty state).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        for f in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={dir}/{f}");
        }
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
    }
}
