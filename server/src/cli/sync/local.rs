//! The automations of a folder of `.auto` files, each with the id of its server copy
//! (a `# id: aut_...` line right above it, written by `pull` and by `apply`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::ir::Automation;
use automations_compiler::lower_dsl::parse_dsl;
use automations_compiler::print::print_dsl;
use automations_grammar::lexical;

use crate::cli::files::{self, CollectConfig};

/// The comment that carries an automation's server id.
pub const ID_PREFIX: &str = "# id: ";

pub struct LocalFile {
    pub path: PathBuf,
    pub text: String,
    pub automations: Vec<LocalAutomation>,
    /// Syntax and shape errors (names and types are the server's to check).
    pub diagnostics: Vec<Diagnostic>,
}

pub struct LocalAutomation {
    pub id: Option<String>,
    pub name: String,
    /// Its own text in the file (sent to the server as the definition).
    pub source: String,
    /// Where that text starts: the line (0-based) and byte offset in the file.
    pub line: usize,
    pub start: usize,
    /// Canonical text without comments: what is compared with the server's copy.
    pub canonical: String,
}

/// Every `.auto` file under `dir`, read and parsed.
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<LocalFile>> {
    let config = CollectConfig {
        json_in_folders: false,
    };
    let mut out = Vec::new();
    for path in files::collect(&[dir.to_path_buf()], &config)? {
        if files::is_json(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        out.push(read_text(path, text));
    }
    Ok(out)
}

fn read_text(path: PathBuf, text: String) -> LocalFile {
    let (automations, diagnostics) = parse_dsl(&text);
    let comments = lexical::comments(&text);
    let mut previous_end = 0;
    let mut local = Vec::with_capacity(automations.len());
    for a in &automations {
        let start = a.span.start as usize;
        let id = comments
            .iter()
            .filter(|c| (previous_end..start).contains(&(c.start as usize)))
            .filter_map(|c| text[c.range()].trim_end().strip_prefix(ID_PREFIX))
            .next_back()
            .map(str::to_string);
        local.push(LocalAutomation {
            id,
            name: a.name.clone(),
            source: text[a.span.range()].to_string(),
            line: text[..start].matches('\n').count(),
            start,
            canonical: canonical(a),
        });
        previous_end = a.span.end as usize;
    }
    LocalFile {
        path,
        text,
        automations: local,
        diagnostics,
    }
}

/// The canonical text of one automation, comments aside.
pub fn canonical(a: &Automation) -> String {
    print_dsl(std::slice::from_ref(a))
}

/// A file name for an automation: its name in lower case, runs of other characters as `-`.
pub fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        "automation".to_string()
    } else {
        stem.chars().take(60).collect()
    }
}

/// `text` with the id line written above the automation that starts at byte `start`.
pub fn with_id(text: &str, start: usize, id: &str) -> String {
    format!("{}{ID_PREFIX}{id}\n{}", &text[..start], &text[start..])
}
