//! The README's tour shows real output: every `$ automations ...` command in a `text`
//! block is run, and what it prints (stdout, then stderr) must be the lines that follow.

use super::support::{run, workspace_root};

/// Splits a command line as a POSIX shell would for the quoting the README uses
/// (single quotes, double quotes, backslash-newline continuations).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '"'));
            }
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// (command words, expected output) for every `$ automations` command in text blocks.
fn tour_commands(readme: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut in_text = false;
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            in_text = !in_text && line == "```text";
            continue;
        }
        let Some(command) = line.strip_prefix("$ automations ").filter(|_| in_text) else {
            continue;
        };
        let mut command = command.to_owned();
        while command.ends_with('\\') {
            command.pop();
            command.push_str(lines.next().unwrap_or(""));
        }
        let mut expected = String::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("$ ") || next.starts_with("```") {
                break;
            }
            expected.push_str(next);
            expected.push('\n');
            lines.next();
        }
        out.push((shell_words(&command), expected));
    }
    out
}

#[test]
fn readme_tour_output_is_what_the_binary_prints() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let commands = tour_commands(&readme);
    assert!(commands.len() >= 3, "{commands:?}");
    for (words, expected) in commands {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let r = run(&args);
        let printed = format!("{}{}", r.stdout, r.stderr);
        assert_eq!(printed, expected, "`automations {}`", words.join(" "));
    }
}
