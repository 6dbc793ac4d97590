//! Command-line tools some tests drive (the OpenAPI validator, schemathesis): found in the
//! virtual environment `.ci/run` makes under `target/tools`, or on `PATH`.

use std::path::PathBuf;

/// Where `name` can be run from, if it is installed.
pub fn python_tool(name: &str) -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let venv = target.join("tools/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
