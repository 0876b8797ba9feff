//! Rupiah amounts and the markup rule. IDR has no minor unit, so every amount is a
//! whole number of rupiah and every calculation stays in integers.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole-rupiah amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rupiah(pub i64);

/// A price multiplier in basis points: 11500 means ×1.15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MarkupBp(pub u32);

impl MarkupBp {
    pub const SHOPEE_DEFAULT: MarkupBp = MarkupBp(11_500);
    pub const TIKTOK_DEFAULT: MarkupBp = MarkupBp(12_000);
}

impl Rupiah {
    /// Base price × markup, rounded half up to the whole rupiah, in integer arithmetic.
    pub fn with_markup(self, markup: MarkupBp) -> Rupiah {
        let scaled = i128::from(self.0) * i128::from(markup.0);
        // Half up: add half of the divisor before the floor division (prices are never negative).
        Rupiah(((scaled + 5_000) / 10_000) as i64)
    }

    /// Parses a whole-rupiah amount as people type it: digits, optionally grouped with
    /// dots ("172.500") and an optional "Rp" prefix. Decimals and signs are refused.
    pub fn parse(input: &str) -> Result<Rupiah, PriceError> {
        let trimmed = input.trim();
        let digits = trimmed
            .strip_prefix("Rp")
            .or_else(|| trimmed.strip_prefix("rp"))
            .unwrap_or(trimmed)
            .trim();
        if digits.is_empty() {
            return Err(PriceError::Empty);
        }
        if digits.contains(',') {
            return Err(PriceError::Decimal);
        }
        if digits.starts_with('-') {
            return Err(PriceError::Negative);
        }
        let grouped = digits.contains('.');
        if grouped && !is_dot_grouped(digits) {
            return Err(PriceError::Decimal);
        }
        let plain: String = digits.chars().filter(|c| *c != '.').collect();
        if !plain.chars().all(|c| c.is_ascii_digit()) {
            return Err(PriceError::NotANumber);
        }
        let value: i64 = plain.parse().map_err(|_| PriceError::TooLarge)?;
        if value == 0 {
            return Err(PriceError::Zero);
        }
        if value > Rupiah::MAX.0 {
            return Err(PriceError::TooLarge);
        }
        Ok(Rupiah(value))
    }

    /// The largest price SyncStore accepts (Rp 1 trillion): far above any listing, far
    /// below where the markup arithmetic could overflow.
    pub const MAX: Rupiah = Rupiah(1_000_000_000_000);
}

fn is_dot_grouped(s: &str) -> bool {
    let mut groups = s.split('.');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("price is empty")]
    Empty,
    #[error("price must be whole rupiah without decimals (e.g. 172500)")]
    Decimal,
    #[error("price cannot be negative")]
    Negative,
    #[error("price must be a number of rupiah (e.g. 172500)")]
    NotANumber,
    #[error("price must be greater than zero")]
    Zero,
    #[error("price is larger than Rp 1.000.000.000.000")]
    TooLarge,
}

/// Shown the Indonesian way: "Rp 172.500".
impl fmt::Display for Rupiah {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}Rp {grouped}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_rounds_half_up_in_integers() {
        assert_eq!(
            Rupiah(150_000).with_markup(MarkupBp(11_500)),
            Rupiah(172_500)
        );
        assert_eq!(
            Rupiah(150_000).with_markup(MarkupBp(12_000)),
            Rupiah(180_000)
        );
        // 10 × 1.15 = 11.5 → 12 (half up), 9 × 1.15 = 10.35 → 10.
        assert_eq!(Rupiah(10).with_markup(MarkupBp(11_500)), Rupiah(12));
        assert_eq!(Rupiah(9).with_markup(MarkupBp(11_500)), Rupiah(10));
        // 4.999 rounds down, exactly .5 rounds up.
        assert_eq!(Rupiah(1).with_markup(MarkupBp(14_999)), Rupiah(1));
        assert_eq!(Rupiah(1).with_markup(MarkupBp(15_000)), Rupiah(2));
    }

    #[test]
    fn markup_matches_exact_rational_arithmetic_for_many_prices() {
        for base in (1..200_000i64).step_by(7) {
            for bp in [10_000u32, 11_500, 12_000, 13_333] {
                let exact_num = base as i128 * bp as i128;
                let floor = exact_num / 10_000;
                let rem = exact_num % 10_000;
                let expected = if rem >= 5_000 { floor + 1 } else { floor };
                assert_eq!(Rupiah(base).with_markup(MarkupBp(bp)).0 as i128, expected);
            }
        }
    }

    #[test]
    fn formats_the_indonesian_way() {
        assert_eq!(Rupiah(172_500).to_string(), "Rp 172.500");
        assert_eq!(Rupiah(5_000).to_string(), "Rp 5.000");
        assert_eq!(Rupiah(999).to_string(), "Rp 999");
        assert_eq!(Rupiah(2_500_000).to_string(), "Rp 2.500.000");
        assert_eq!(Rupiah(0).to_string(), "Rp 0");
    }

    #[test]
    fn parses_whole_rupiah_and_refuses_the_rest() {
        assert_eq!(Rupiah::parse("172500"), Ok(Rupiah(172_500)));
        assert_eq!(Rupiah::parse("172.500"), Ok(Rupiah(172_500)));
        assert_eq!(Rupiah::parse("Rp 172.500"), Ok(Rupiah(172_500)));
        assert_eq!(Rupiah::parse("12,5"), Err(PriceError::Decimal));
        assert_eq!(Rupiah::parse("12.5"), Err(PriceError::Decimal));
        assert_eq!(Rupiah::parse("-1"), Err(PriceError::Negative));
        assert_eq!(Rupiah::parse("abc"), Err(PriceError::NotANumber));
        assert_eq!(Rupiah::parse(""), Err(PriceError::Empty));
        assert_eq!(Rupiah::parse("0"), Err(PriceError::Zero));
        assert_eq!(
            Rupiah::parse("99999999999999999999"),
            Err(PriceError::TooLarge)
        );
    }
}
