//! Secrets in definitions, step inputs, outbox payloads and messages: which values are
//! secret, how they are answered (replaced by [`PLACEHOLDER`]), and how a definition sent
//! back with the placeholder keeps the stored secret.
//!
//! Secrets are: a `webhook` step's `secret`; the values of sensitive headers
//! ([`is_sensitive_name`]: `Authorization`, `Cookie`, `X-Api-Key`, anything naming a
//! token, key, password, secret or credential); a `plugin` step's input values under
//! sensitive keys; and credentials inside URLs anywhere (the password of `user:pass@`, or
//! a lone user name, which is often a token, and sensitive query parameters).
//!
//! This module never decides what is stored: delivery needs the real values, so the
//! outbox keeps them and only the answers (and step inputs, which exist for display) are
//! redacted. It must never log or return a value it was asked to hide.

use automations_compiler::catalog::ActionKind;
use serde_json::{Map, Value};

/// What a secret is answered as. Sending it back in a definition keeps the stored secret
/// (see [`restore_definition`]).
pub const PLACEHOLDER: &str = "********";

/// Header, parameter and input key names whose values are secret (case and `-`/`_`
/// insensitive): `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`,
/// `X-Api-Key`, and any name containing `token`, `secret`, `password`, `passwd`,
/// `apikey`, `credential`, `private_key`, `session` or `signature`.
pub fn is_sensitive_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    const EXACT: [&str; 3] = ["authorization", "proxyauthorization", "auth"];
    const PARTS: [&str; 12] = [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "credential",
        "privatekey",
        "session",
        "signature",
        "cookie",
        "bearer",
        "authorization",
    ];
    EXACT.contains(&n.as_str()) || PARTS.iter().any(|p| n.contains(p))
}

/// `text` with every credential inside a URL replaced by [`PLACEHOLDER`]: the password of
/// `scheme://user:password@`, a lone `scheme://token@`, and the values of sensitive query
/// parameters. Works on a bare URL and on free text holding URLs (error messages).
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(tail.len());
        out.push_str(&redact_url_body(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// One URL after its `://`: authority, path, query, fragment.
fn redact_url_body(body: &str) -> String {
    let authority_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    let (authority, after) = body.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{PLACEHOLDER}@{host}"),
            None => format!("{PLACEHOLDER}@{host}"),
        },
        None => authority.to_string(),
    };
    let Some(q) = after.find('?') else {
        return format!("{authority}{after}");
    };
    let (path, query) = after.split_at(q + 1);
    let (query, fragment) = query.split_at(query.find('#').unwrap_or(query.len()));
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive_name(k) => format!("{k}={PLACEHOLDER}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{authority}{path}{}{fragment}", query.join("&"))
}

/// Redacts every URL credential inside every string of `value`.
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) if s.contains("://") => *s = redact_text(s),
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(m) => m.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// Values under sensitive keys, at any depth.
fn redact_keys(value: &mut Value) {
    match value {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if is_sensitive_name(k) && !v.is_null() {
                    *v = Value::String(PLACEHOLDER.into());
                } else {
                    redact_keys(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_keys),
        _ => {}
    }
}

/// The params (or step input, or webhook outbox payload) of an action of type `action`,
/// as answered: secrets replaced by [`PLACEHOLDER`].
pub fn redact_params(action: &str, params: &mut Value) {
    redact_strings(params);
    let Value::Object(m) = params else { return };
    // Webhook effects and outbox items are named like the action, so one parse serves all.
    match ActionKind::parse(action) {
        Some(ActionKind::Webhook) => {
            if let Some(secret) = m.get_mut("secret")
                && !secret.is_null()
                && secret != ""
            {
                *secret = Value::String(PLACEHOLDER.into());
            }
            if let Some(headers) = m.get_mut("headers") {
                redact_keys(headers);
            }
        }
        Some(ActionKind::Plugin) => {
            if let Some(input) = m.get_mut("input") {
                redact_keys(input);
            }
        }
        _ => {}
    }
}

/// An outbox payload as answered (`kind` is `email`, `slack` or `webhook`).
pub fn redact_payload(kind: &str, payload: &mut Value) {
    redact_params(kind, payload);
}

/// Walks every step of a definition (through `if` branches), in document order, with its
/// effective id (`id`, or `step_N` as the compiler numbers them).
fn for_each_step(definition: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
    fn walk(list: &mut Value, seen: &mut usize, f: &mut dyn FnMut(&str, &mut Map<String, Value>)) {
        let Value::Array(items) = list else { return };
        for item in items {
            *seen += 1;
            let Value::Object(step) = item else { continue };
            let id = match step.get("id").and_then(Value::as_str) {
                Some(id) => id.to_string(),
                None => format!("step_{seen}"),
            };
            f(&id, step);
            for branch in ["then", "else"] {
                if let Some(list) = step.get_mut(branch) {
                    walk(list, seen, f);
                }
            }
        }
    }
    let mut seen = 0;
    if let Some(actions) = definition.get_mut("actions") {
        walk(actions, &mut seen, f);
    }
}

/// A definition as answered: every step's params redacted by [`redact_params`].
pub fn redact_definition(definition: &mut Value) {
    for_each_step(definition, &mut |_, step| {
        let action = step
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(params) = step.get_mut("params") {
            redact_params(&action, params);
        }
    });
}

/// A placeholder that could not be given its stored secret back.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrestorable {
    /// JSON pointer of the placeholder in the definition (`/actions/0/params/secret`).
    pub pointer: String,
    pub message: String,
}

/// Gives the placeholders of `definition` back their stored values from `stored` (the
/// version being replaced; `None` on create). A placeholder keeps the stored secret when
/// the stored version has a step with the same effective id and type, the same
/// destination (a webhook's URL with its credentials redacted; a plugin's name), and a
/// value at the same place that is answered exactly as the placeholder text. Anything
/// else is an error: a secret is never carried to another step or destination, and the
/// placeholder is never stored as if it were the secret.
pub fn restore_definition(
    definition: &mut Value,
    stored: Option<&Value>,
) -> Result<(), Vec<Unrestorable>> {
    let mut old_steps: Vec<(String, Map<String, Value>)> = Vec::new();
    if let Some(stored) = stored {
        let mut stored = stored.clone();
        for_each_step(&mut stored, &mut |id, step| {
            old_steps.push((id.to_string(), step.clone()));
        });
    }
    let mut problems = Vec::new();
    let mut pointers = step_pointers(definition);
    for_each_step(definition, &mut |id, step| {
        let at = pointers.remove(0);
        let old = old_steps
            .iter()
            .find(|(old_id, old)| old_id == id && same_destination(old, step))
            .map(|(_, s)| s.get("params").cloned().unwrap_or(Value::Null));
        if let Some(params) = step.get_mut("params") {
            restore_value(params, old.as_ref(), &format!("{at}/params"), &mut problems);
        }
    });
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// JSON pointers of the steps, in the order [`for_each_step`] visits them.
fn step_pointers(definition: &Value) -> Vec<String> {
    fn walk(list: &Value, at: &str, out: &mut Vec<String>) {
        let Value::Array(items) = list else { return };
        for (i, item) in items.iter().enumerate() {
            let here = format!("{at}/{i}");
            out.push(here.clone());
            for branch in ["then", "else"] {
                if let Some(list) = item.get(branch) {
                    walk(list, &format!("{here}/{branch}"), out);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Some(actions) = definition.get("actions") {
        walk(actions, "/actions", &mut out);
    }
    out
}

/// Same type, and the same destination: the redacted URL of a webhook, the plugin name.
fn same_destination(old: &Map<String, Value>, new: &Map<String, Value>) -> bool {
    let kind = |s: &Map<String, Value>| s.get("type").cloned();
    let param = |s: &Map<String, Value>, k: &str| s.get("params").and_then(|p| p.get(k)).cloned();
    let url = |s: &Map<String, Value>| {
        param(s, "url").map(|u| match u {
            Value::String(u) => Value::String(redact_text(&u)),
            other => other,
        })
    };
    kind(old) == kind(new) && url(old) == url(new) && param(old, "plugin") == param(new, "plugin")
}

/// Restores placeholders inside `value` from `old` (the same place in the stored step).
fn restore_value(
    value: &mut Value,
    old: Option<&Value>,
    at: &str,
    problems: &mut Vec<Unrestorable>,
) {
    match value {
        Value::String(s) if s.contains(PLACEHOLDER) => {
            let kept = old
                .and_then(Value::as_str)
                .filter(|o| *o == PLACEHOLDER || redacted_form(o) == *s);
            match kept {
                Some(o) if o != PLACEHOLDER => *s = o.to_string(),
                _ => problems.push(Unrestorable {
                    pointer: at.to_string(),
                    message: format!(
                        "`{at}` holds the redacted placeholder `{PLACEHOLDER}`, but the stored \
                         version has no secret for it (a secret is kept only by the same step \
                         sending to the same destination); send the secret itself"
                    ),
                }),
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let o = old.and_then(|o| o.get(i));
                restore_value(item, o, &format!("{at}/{i}"), problems);
            }
        }
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                let o = old.and_then(|o| o.get(k.as_str()));
                let key = k.replace('~', "~0").replace('/', "~1");
                restore_value(v, o, &format!("{at}/{key}"), problems);
            }
        }
        _ => {}
    }
}

/// How a stored string is answered when it sits where a secret may: the whole value for a
/// secret, its credentials masked for a string holding URLs.
fn redacted_form(stored: &str) -> String {
    let masked = redact_text(stored);
    if masked != stored {
        masked
    } else {
        PLACEHOLDER.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_text("smtp://mailer:s3cret@mail.example:25?from=a@b"),
            "smtp://mailer:********@mail.example:25?from=a@b"
        );
        assert_eq!(
            redact_text("see https://tok@git.example/x?a=1&api_key=zz#f now"),
            "see https://********@git.example/x?a=1&api_key=********#f now"
        );
        assert_eq!(
            redact_text("https://plain.example/a"),
            "https://plain.example/a"
        );
    }

    #[test]
    fn sensitive_names() {
        for n in [
            "Authorization",
            "X-Api-Key",
            "Cookie",
            "x-auth-token",
            "client_secret",
        ] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in ["Content-Type", "author", "x-request-id", "subject"] {
            assert!(!is_sensitive_name(n), "{n}");
        }
    }

    #[test]
    fn a_placeholder_keeps_the_secret_of_the_same_step_and_destination() {
        let stored = json!({"actions": [{"type": "webhook", "params": {
            "url": "https://u:pw@hooks.example/in", "secret": "whsec_abc",
            "headers": {"Authorization": "Bearer t"}}}]});
        let mut answered = stored.clone();
        redact_definition(&mut answered);
        assert_eq!(answered["actions"][0]["params"]["secret"], PLACEHOLDER);
        assert!(!answered.to_string().contains("pw@"));
        let mut back = answered.clone();
        restore_definition(&mut back, Some(&stored)).unwrap();
        assert_eq!(back, stored);

        let mut moved = answered.clone();
        moved["actions"][0]["params"]["url"] = json!("https://u:********@evil.example/in");
        let problems = restore_definition(&mut moved, Some(&stored)).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0].pointer, "/actions/0/params/url");
    }
}
