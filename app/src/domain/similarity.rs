//! Title similarity exactly as the SPEC defines it:
//! `1 − lev(n(a), n(b)) / max(len(n(a)), len(n(b)))` over Unicode scalar values, where `n`
//! lowercases, trims and collapses whitespace.

/// Lowercases, trims and collapses runs of whitespace to one space.
pub fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Similarity in [0, 1]; two empty titles are identical.
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_levenshtein(&normalize(a), &normalize(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_after_normalising() {
        assert_eq!(similarity("  Kaos  Polos ", "kaos polos"), 1.0);
        assert_eq!(similarity("", ""), 1.0);
    }

    #[test]
    fn follows_the_formula() {
        // "kaos" → "kaus": one substitution over 4 characters.
        assert!((similarity("Kaos", "Kaus") - 0.75).abs() < 1e-12);
        // Unicode scalar values, not bytes: "é" counts once.
        assert!((similarity("café", "cafe") - 0.75).abs() < 1e-12);
        assert_eq!(similarity("abc", ""), 0.0);
    }
}
