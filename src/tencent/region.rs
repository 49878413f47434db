//! A Tencent Cloud region name (`ap-guangzhou`, `na-siliconvalley`, `ap-shanghai-fsi`) as a
//! type: parsed once at the edge, so a region can be put into a host name without becoming a
//! host of its own (issue 10, defect 8: `x@127.0.0.1:port/#` sent signed requests elsewhere).
//!
//! The accepted shape is `^[a-z]{2}-[a-z]+(-[a-z0-9]+)*$` and at most 64 characters, which
//! covers every region Tencent lists (reference §2) and leaves no character that means
//! something in a URL authority (`@ : / # ? .` and the rest).

use std::fmt;

/// A region name of the accepted shape. Construct with [`Region::parse`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);

/// Why a text is not a region name; the message says what a region looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{shown}` is not a Tencent Cloud region: {why}; a region looks like ap-guangzhou or na-siliconvalley"
)]
pub struct RegionError {
    /// The input, shortened and with control characters escaped (it is shown to the user).
    shown: String,
    why: &'static str,
}

const MAX_LEN: usize = 64;

impl Region {
    pub fn parse(raw: &str) -> Result<Region, RegionError> {
        let fail = |why| RegionError {
            shown: raw
                .chars()
                .take(MAX_LEN)
                .flat_map(char::escape_debug)
                .collect(),
            why,
        };
        if raw.is_empty() {
            return Err(fail("it is empty"));
        }
        if raw.len() > MAX_LEN {
            return Err(fail("it is too long"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(fail(
                "only lower-case letters, digits and dashes are allowed",
            ));
        }
        let mut parts = raw.split('-');
        let area = parts.next().unwrap_or_default();
        if area.len() != 2 || !area.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(fail("it must start with two letters and a dash"));
        }
        match parts.next() {
            Some(city) if !city.is_empty() && city.bytes().all(|b| b.is_ascii_lowercase()) => {}
            _ => return Err(fail("the part after the first dash must be letters")),
        }
        if parts.any(str::is_empty) {
            return Err(fail("dashes must separate non-empty parts"));
        }
        Ok(Region(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Region {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Region, RegionError> {
        Region::parse(s)
    }
}

impl AsRef<str> for Region {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_shape_parses() {
        for ok in [
            "ap-guangzhou",
            "ap-shanghai-fsi",
            "na-siliconvalley",
            "eu-frankfurt",
            "ap-shenzhen-fsi",
            "sa-saopaulo",
            "ap-beijing-1",
        ] {
            assert_eq!(Region::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn anything_that_could_change_a_host_is_refused() {
        for bad in [
            "",
            "x@127.0.0.1:9000/#",
            "ap-guangzhou.evil.com",
            "ap-guangzhou:443",
            "ap-guangzhou/",
            "ap-guangzhou#",
            "AP-GUANGZHOU",
            "apx-guangzhou",
            "a-guangzhou",
            "ap-",
            "ap-guangzhou-",
            "ap--guangzhou",
            "ap-1a",
            " ap-guangzhou",
            "ap-guangzhou\n",
            "ap",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Region::parse(&format!("ap-{}", "a".repeat(70))).is_err());
    }

    #[test]
    fn the_message_names_the_input_and_the_expected_shape() {
        let e = Region::parse("x@127.0.0.1:9000/#").unwrap_err().to_string();
        assert!(
            e.contains("`x@127.0.0.1:9000/#` is not a Tencent Cloud region"),
            "{e}"
        );
        assert!(e.contains("ap-guangzhou"), "{e}");
        let e = Region::parse("a\nb").unwrap_err().to_string();
        assert!(e.contains("a\\nb"), "{e}");
    }
}
