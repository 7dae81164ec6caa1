//! "Did you mean ...?" suggestions for misspelt names (fields, params, events, keys).
//!
//! Pure string distance; it knows nothing about what the names mean and never decides
//! whether a name is wrong, only which known name is closest.

/// The candidate closest to `name` by edit distance (case-insensitive; an adjacent
/// transposition counts as one edit), when it is close enough to be a plausible typo: at
/// most a third of the name's length, and at least 1 edit (2 for names of 4 chars or more).
/// The candidate is returned with its own case; ties keep the first candidate.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    let length = wanted.chars().count();
    let limit = (length / 3).max(if length >= 4 { 2 } else { 1 });
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&wanted, &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// [`did_you_mean`] as an owned string, the form diagnostics store.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(str::to_owned)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions, counted in chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
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
    fn distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("trigger", "trigger"), 0);
        assert_eq!(edit_distance("craeted", "created"), 1);
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["name", "trigger", "actions", "status"];
        assert_eq!(did_you_mean("trigerr", known), Some("trigger"));
        assert_eq!(did_you_mean("acions", known), Some("actions"));
        assert_eq!(did_you_mean("completely_else", known), None);
    }

    #[test]
    fn finds_typos_and_keeps_case() {
        assert_eq!(
            did_you_mean("priorty", ["priority", "status"]),
            Some("priority")
        );
        assert_eq!(
            did_you_mean("case.craeted", ["case.created", "case.updated"]),
            Some("case.created")
        );
        assert_eq!(
            did_you_mean("Closed Wonn", ["Closed Won", "Closed Lost"]),
            Some("Closed Won")
        );
        assert_eq!(did_you_mean("HIGH", ["low", "high"]), Some("high"));
        assert_eq!(did_you_mean("hgih", ["low", "high"]), Some("high"));
        assert_eq!(did_you_mean("zzzzzz", ["priority"]), None);
    }
}
