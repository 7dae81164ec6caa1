//! Finding the definition files named on the command line.
//!
//! A file named explicitly is always taken. In a folder, `.auto` files are taken, and
//! `.json` files only when they look like automations (an object with `trigger` or
//! `actions`, or an array of such objects): folders such as `examples/` also hold sample
//! events, records and plugin manifests, which are not definitions. Hidden folders,
//! `target` and `node_modules` are skipped, and so is a sub-folder holding a file named
//! [`SKIP_MARKER`] (deliberately broken fixtures such as `examples/invalid/`): walking
//! `examples/` leaves it out, naming `examples/invalid/` itself checks it.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// A file whose presence makes folder walks skip its folder (unless named explicitly).
pub const SKIP_MARKER: &str = ".automations-skip";

/// Definition files under `paths`, sorted within each folder for stable output.
pub fn collect(paths: &[PathBuf], config: &CollectConfig) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(path, config, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

pub struct CollectConfig {
    /// Take `.json` automations from folders too (`fmt` takes only `.auto`).
    pub json_in_folders: bool,
}

fn walk(dir: &Path, config: &CollectConfig, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            let skipped = name.starts_with('.')
                || name == "target"
                || name == "node_modules"
                || path.join(SKIP_MARKER).exists();
            if !skipped {
                walk(&path, config, out)?;
            }
        } else if name.ends_with(".auto")
            || (config.json_in_folders && name.ends_with(".json") && looks_like_automation(&path))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn looks_like_automation(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        // Broken JSON is reported by the linter rather than skipped silently.
        return true;
    };
    let is_definition =
        |v: &serde_json::Value| v.get("trigger").is_some() || v.get("actions").is_some();
    match &value {
        serde_json::Value::Array(items) => !items.is_empty() && items.iter().all(is_definition),
        other => is_definition(other),
    }
}

pub fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}
