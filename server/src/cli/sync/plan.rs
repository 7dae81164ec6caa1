//! What `plan` and `apply` compare: the folder's automations against the server's.

use std::collections::HashMap;

use automations_compiler::json::lower_value;

use super::diff::line_diff;
use super::local::{LocalFile, canonical};
use super::remote::ServerAutomation;

/// An automation of the folder, by file and position in it.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub file: usize,
    pub automation: usize,
}

pub struct Update<'s> {
    pub at: At,
    pub server: &'s ServerAutomation,
    pub diff: Vec<String>,
}

#[derive(Default)]
pub struct Plan<'s> {
    pub creates: Vec<At>,
    pub updates: Vec<Update<'s>>,
    /// On the server only: archived by `apply --prune`, otherwise kept.
    pub only_on_server: Vec<&'s ServerAutomation>,
    /// Problems that refuse the plan (unknown or repeated ids).
    pub errors: Vec<String>,
}

impl Plan<'_> {
    pub fn is_empty(&self, prune: bool) -> bool {
        self.creates.is_empty()
            && self.updates.is_empty()
            && (!prune || self.only_on_server.is_empty())
    }
}

pub fn compare<'s>(files: &[LocalFile], server: &'s [ServerAutomation]) -> Plan<'s> {
    let by_id: HashMap<&str, &ServerAutomation> =
        server.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut plan = Plan::default();
    let mut seen: HashMap<&str, String> = HashMap::new();
    for (f, file) in files.iter().enumerate() {
        for (k, local) in file.automations.iter().enumerate() {
            let at = At {
                file: f,
                automation: k,
            };
            // `file:line:column`, as every other problem is printed (the automation's first
            // line; its `# id:` comment is above it).
            let place = format!("{}:{}:1", file.path.display(), local.line + 1);
            let Some(id) = local.id.as_deref() else {
                plan.creates.push(at);
                continue;
            };
            if let Some(first) = seen.insert(id, place.clone()) {
                plan.errors
                    .push(format!("{place}: id {id} is also used at {first}"));
                continue;
            }
            let Some(remote) = by_id.get(id) else {
                plan.errors.push(format!(
                    "{place}: id {id} is not an automation of this workspace (deleted, archived, \
                     or from another server); remove the `# id:` line to create it anew"
                ));
                continue;
            };
            let theirs = server_canonical(remote);
            if theirs != local.canonical {
                plan.updates.push(Update {
                    at,
                    server: remote,
                    diff: line_diff(&theirs, &local.canonical, 2),
                });
            }
        }
    }
    plan.only_on_server = server
        .iter()
        .filter(|a| !seen.contains_key(a.id.as_str()))
        .collect();
    plan
}

/// The server's copy as canonical text.
pub fn server_canonical(a: &ServerAutomation) -> String {
    canonical(&lower_value(&a.definition).0)
}
