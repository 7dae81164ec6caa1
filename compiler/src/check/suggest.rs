//! Did-you-mean for unknown names: the closest candidate within a small edit distance.
//!
//! Local to the checker until `crate::suggest::did_you_mean` lands on main; then this can
//! delegate. Must never suggest something farther than a plausible typo.

/// The candidate closest to `name` (case-insensitive optimal-string-alignment distance),
/// returned with the candidate's own case; `None` when nothing is close enough.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let d = distance(&wanted, &cand.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_keeps_case() {
        assert_eq!(
            closest("priorty", ["priority", "status"]),
            Some("priority".into())
        );
        assert_eq!(
            closest("case.craeted", ["case.created", "case.updated"]),
            Some("case.created".into())
        );
        assert_eq!(
            closest("Closed Wonn", ["Closed Won", "Closed Lost"]),
            Some("Closed Won".into())
        );
        assert_eq!(closest("HIGH", ["low", "high"]), Some("high".into()));
        assert_eq!(closest("zzzzzz", ["priority"]), None);
    }
}
