//! A line diff of two canonical texts, for `plan` (longest common subsequence: automations
//! are a few dozen lines).

/// The lines of `new` against `old`, each prefixed by `-`, `+` or a space; unchanged lines
/// farther than `context` from a change are left out.
pub fn line_diff(old: &str, new: &str, context: usize) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let near_change = |k: usize| {
        let from = k.saturating_sub(context);
        let to = (k + context + 1).min(lines.len());
        lines[from..to].iter().any(|(mark, _)| *mark != ' ')
    };
    (0..lines.len())
        .filter(|&k| near_change(k))
        .map(|k| format!("{} {}", lines[k].0, lines[k].1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn shows_the_changed_line_with_context() {
        let old = "a\nb\nc\nd\ne\n";
        let new = "a\nb\nC\nd\ne\n";
        assert_eq!(line_diff(old, new, 1), ["  b", "- c", "+ C", "  d"]);
        assert!(line_diff(old, old, 3).is_empty());
    }
}
