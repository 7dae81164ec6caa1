//! "Did you mean ...?" suggestions for misspelt names (fields, params, events, keys).
//!
//! Pure string distance; it knows nothing about what the names mean and never decides
//! whether a name is wrong, only which known name is closest.

/// The candidate closest to `name` by edit distance, when it is close enough to be a
/// plausible typo (at most a third of the name's length, and at least 1 edit allowed).
/// Exact matches are returned as is; ties keep the first candidate.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = levenshtein(&name.to_lowercase(), &candidate.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Edit distance (insertions, deletions, substitutions) counted in chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("trigger", "trigger"), 0);
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["name", "trigger", "actions", "status"];
        assert_eq!(did_you_mean("trigerr", known), Some("trigger"));
        assert_eq!(did_you_mean("acions", known), Some("actions"));
        assert_eq!(did_you_mean("completely_else", known), None);
    }
}
