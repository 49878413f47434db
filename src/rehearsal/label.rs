//! The account label of a rehearsal run: `rehearsal:<account>:<8 hex>`. Configured labels are
//! letters, digits, `-`, `_` and `.` only (`estate::config`), so no real account can ever
//! carry a twin's label, and a twin's run never shares the real VPC's one-active-run lock.

use std::fmt;

const PREFIX: &str = "rehearsal:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinLabel {
    /// The real account the twin copies.
    pub of_account: String,
    id: String,
}

impl TwinLabel {
    /// A new label for a twin of `of_account`.
    pub fn new(of_account: &str) -> TwinLabel {
        let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        TwinLabel {
            of_account: of_account.to_owned(),
            id,
        }
    }

    /// The label when `account` is a twin's, else `None`.
    pub fn parse(account: &str) -> Option<TwinLabel> {
        let rest = account.strip_prefix(PREFIX)?;
        let (of, id) = rest.rsplit_once(':')?;
        (!of.is_empty() && id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
            TwinLabel {
                of_account: of.to_owned(),
                id: id.to_owned(),
            }
        })
    }

    /// Whether a run's account is a twin's (a rehearsal run).
    pub fn is_twin(account: &str) -> bool {
        account.starts_with(PREFIX)
    }
}

impl fmt::Display for TwinLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}:{}", self.of_account, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_round_trips_and_no_configured_label_parses_as_one() {
        let label = TwinLabel::new("prod");
        let text = label.to_string();
        assert!(text.starts_with("rehearsal:prod:"), "{text}");
        assert_eq!(TwinLabel::parse(&text), Some(label));
        assert!(TwinLabel::is_twin(&text));
        for real in [
            "prod",
            "simulated",
            "default",
            "rehearsal",
            "rehearsal.prod",
        ] {
            assert_eq!(TwinLabel::parse(real), None, "{real}");
            assert!(!TwinLabel::is_twin(real), "{real}");
        }
        assert_eq!(TwinLabel::parse("rehearsal:prod:xyz"), None);
    }

    #[test]
    fn two_twins_of_one_account_have_different_labels() {
        assert_ne!(TwinLabel::new("prod"), TwinLabel::new("prod"));
    }
}
