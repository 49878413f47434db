//! Counts as an operator reads them: `10,000`, not `10000`.

/// `n` with a comma between each group of three digits.
pub fn grouped(n: impl std::borrow::Borrow<usize>) -> String {
    let digits = n.borrow().to_string();
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

#[cfg(test)]
mod tests {
    use super::{grouped, signed};

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
}
