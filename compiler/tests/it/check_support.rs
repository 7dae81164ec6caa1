//! Test-only helpers for the checker tests: a reader for case files.

/// One expected diagnostic: code and optional suggestion (`# expect: E0101 priority`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub code: String,
    pub suggestion: Option<String>,
}

/// A case file: `# key: value` header lines, then the body (expression or DSL).
pub struct Case {
    pub name: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Case {
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn expected(&self) -> Vec<Expected> {
        let mut out: Vec<Expected> = self
            .headers
            .iter()
            .filter(|(k, _)| k == "expect")
            .filter(|(_, v)| v != "none")
            .map(|(_, v)| {
                let (code, rest) = v.split_once(' ').unwrap_or((v.as_str(), ""));
                let rest = rest.trim();
                Expected {
                    code: code.to_string(),
                    suggestion: (!rest.is_empty()).then(|| rest.to_string()),
                }
            })
            .collect();
        out.sort();
        out
    }
}

/// Reads every file with extension `ext` under `compiler/test_data/check/<dir>`.
/// Header lines are kept in `body` for DSL files (they are `#` comments there) when
/// `keep_headers` is true.
pub fn read_cases(dir: &str, ext: &str, keep_headers: bool) -> Vec<Case> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data/check")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .expect("test_data dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("case file");
            let mut headers = Vec::new();
            let mut body_lines = Vec::new();
            for line in text.lines() {
                match line.strip_prefix("# ").and_then(|l| l.split_once(": ")) {
                    Some((k, v)) if body_lines.is_empty() || keep_headers => {
                        headers.push((k.trim().to_string(), v.trim().to_string()));
                        if keep_headers {
                            body_lines.push(line);
                        }
                    }
                    _ => body_lines.push(line),
                }
            }
            let name = p.file_stem().expect("stem").to_string_lossy().into_owned();
            Case {
                name,
                headers,
                body: body_lines.join("\n") + "\n",
            }
        })
        .collect()
}
