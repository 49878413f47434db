//! Counts as an operator reads them: `10,000`, not `10000`.

/// A count, however many references a template puts in front of it.
pub trait Count {
    fn count(&self) -> usize;
}

impl Count for usize {
    fn count(&self) -> usize {
        *self
    }
}

impl<T: Count + ?Sized> Count for &T {
    fn count(&self) -> usize {
        (**self).count()
    }
}

/// `n` with a comma between each group of three digits.
pub fn grouped(n: impl Count) -> String {
    let digits = n.count().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count the same way ("-1,200").
pub fn signed(n: i64) -> String {
    let digits = grouped(n.unsigned_abs() as usize);
    if n < 0 { format!("-{digits}") } else { digits }
}

/// An amount of money with two decimals and grouped thousands ("72,562.00").
pub fn money(amount: f64) -> String {
    // Cents as an integer: no float noise, and -0.00 never shows.
    let cents = (amount * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!(
        "{sign}{}.{:02}",
        grouped((cents / 100) as usize),
        cents % 100
    )
}

#[cfg(test)]
mod tests {
    use super::{grouped, money, signed};

    #[test]
    fn groups_of_three() {
        let cases = [(0, "0"), (999, "999"), (1000, "1,000"), (50_000, "50,000")];
        for (n, want) in cases {
            assert_eq!(grouped(n), want);
        }
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(signed(-1_200), "-1,200");
        assert_eq!(signed(42), "42");
    }

    #[test]
    fn money_has_two_decimals_and_groups() {
        assert_eq!(money(72_562.0), "72,562.00");
        assert_eq!(money(0.2), "0.20");
        assert_eq!(money(146.0 * 0.2), "29.20");
        assert_eq!(money(-0.0), "0.00");
        assert_eq!(money(1_234_567.891), "1,234,567.89");
    }
}
