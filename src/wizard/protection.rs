//! Step 1's protection rules: which instances keep their public IP and own egress, chosen by
//! rule (DNS, tag, subnet, name pattern) with single-host exceptions on top. Pure: the same
//! [`decide`] serves the exposure table, the plan and the confirmation, so they cannot differ.

use serde::{Deserialize, Serialize};

use super::observed::PROTECTED_TAG;

/// One rule. Stored as JSON (in `protection_rules.rule` and in the confirmed `AssessInput`)
/// and read back strictly: an unknown kind or field is an error, never "no rule".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Instances whose public IP backs a DNS record (A, or a CNAME chain ending in one).
    Dns,
    /// Instances carrying this tag (key exact, value ignoring ASCII case).
    Tag { key: String, value: String },
    /// Instances in this subnet.
    Subnet { subnet_id: String },
    /// Instances whose name matches this shell-style glob (`*`, `?`, `[…]`), ignoring case.
    Name { pattern: String },
}

/// The rules a run starts with: today's suggestions (DNS names and the protection tag).
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule::Dns,
        Rule::Tag {
            key: PROTECTED_TAG.0.to_owned(),
            value: PROTECTED_TAG.1.to_owned(),
        },
    ]
}

/// What a rule looks at on one instance.
pub struct Facts<'a> {
    pub name: &'a str,
    pub subnet_id: &'a str,
    pub tags: &'a [(String, String)],
    pub has_dns: bool,
}

/// Longest name pattern or tag accepted (Tencent's names and tags are far shorter).
const MAX_RULE_CHARS: usize = 128;

impl Rule {
    /// Parses the rule form: `kind` is `dns`, `tag`, `subnet` or `name`; `value` is what was
    /// typed (`key=value`, a subnet id, a glob). The error says what to type instead.
    pub fn parse(kind: &str, value: &str) -> Result<Rule, String> {
        let value = value.trim();
        if value.chars().count() > MAX_RULE_CHARS {
            return Err(format!("at most {MAX_RULE_CHARS} characters"));
        }
        match kind.trim() {
            "dns" => Ok(Rule::Dns),
            "tag" => {
                let (k, v) = value.split_once('=').ok_or_else(|| {
                    "type the tag as key=value, for example team=payments".to_owned()
                })?;
                let (k, v) = (k.trim(), v.trim());
                if k.is_empty() || v.is_empty() {
                    return Err("both the key and the value of key=value are needed".into());
                }
                Ok(Rule::Tag {
                    key: k.to_owned(),
                    value: v.to_owned(),
                })
            }
            "subnet" => {
                let ok = value
                    .strip_prefix("subnet-")
                    .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()));
                if !ok {
                    return Err(format!(
                        "\"{value}\" is not a subnet id; a subnet id looks like subnet-1a2b3c4d"
                    ));
                }
                Ok(Rule::Subnet {
                    subnet_id: value.to_owned(),
                })
            }
            "name" => {
                if value.is_empty() {
                    return Err("type a name pattern, for example web-* or db-[12]".into());
                }
                glob::Pattern::new(value)
                    .map_err(|e| format!("\"{value}\" is not a valid name pattern ({})", e.msg))?;
                Ok(Rule::Name {
                    pattern: value.to_owned(),
                })
            }
            _ => Err("choose what to protect by: DNS, tag, subnet or name pattern".into()),
        }
    }

    /// Short machine word for counts and the stored reason (`dns`, `tag`, `subnet`, `name`).
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Dns => "dns",
            Rule::Tag { .. } => "tag",
            Rule::Subnet { .. } => "subnet",
            Rule::Name { .. } => "name",
        }
    }

    /// The rule in words, as the page and the reason column show it.
    pub fn describe(&self) -> String {
        match self {
            Rule::Dns => "DNS records point at its public IP".into(),
            Rule::Tag { key, value } => format!("tagged {key}={value}"),
            Rule::Subnet { subnet_id } => format!("in subnet {subnet_id}"),
            Rule::Name { pattern } => format!("name matches {pattern}"),
        }
    }

    /// The instances the rule selects, as an event sentence names them ("every instance
    /// whose name matches legacy-*"): `describe` reads as a column value, not after "that is".
    pub fn every_instance(&self) -> String {
        match self {
            Rule::Dns => "every instance whose public IP DNS records point at".into(),
            Rule::Tag { key, value } => format!("every instance tagged {key}={value}"),
            Rule::Subnet { subnet_id } => format!("every instance in subnet {subnet_id}"),
            Rule::Name { pattern } => format!("every instance whose name matches {pattern}"),
        }
    }

    /// Whether the rule selects an instance. A name pattern that does not compile (only
    /// possible for a record written outside natpilot) matches everything: protecting too
    /// much is the safe side.
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        let compiled = match self {
            Rule::Name { pattern } => glob::Pattern::new(pattern).ok(),
            _ => None,
        };
        self.matches_compiled(f, compiled.as_ref())
    }

    /// [`Rule::matches`] with the name pattern compiled once by the caller.
    fn matches_compiled(&self, f: &Facts<'_>, compiled: Option<&glob::Pattern>) -> bool {
        match self {
            Rule::Dns => f.has_dns,
            Rule::Tag { key, value } => f
                .tags
                .iter()
                .any(|(k, v)| k == key && v.eq_ignore_ascii_case(value)),
            Rule::Subnet { subnet_id } => f.subnet_id == subnet_id,
            Rule::Name { .. } => compiled.is_none_or(|p| {
                let opts = glob::MatchOptions {
                    case_sensitive: false,
                    ..glob::MatchOptions::new()
                };
                p.matches_with(f.name, opts)
            }),
        }
    }
}

/// Why an instance is protected or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Protected by the first rule that matches it.
    Rule(Rule),
    /// Protected by the operator as a single host.
    Operator,
    /// The operator decided it is not protected (an exception to any rule that matches it).
    Exception,
    /// No rule matches it.
    Open,
}

impl Decision {
    pub fn protected(&self) -> bool {
        matches!(self, Decision::Rule(_) | Decision::Operator)
    }

    /// The stored reason word: the rule kind, `operator`, `exception` or empty.
    pub fn reason_kind(&self) -> &'static str {
        match self {
            Decision::Rule(r) => r.kind(),
            Decision::Operator => "operator",
            Decision::Exception => "exception",
            Decision::Open => "",
        }
    }
}

/// The rules and single-host exceptions together, with ids looked up in sets.
pub struct Protection<'a> {
    rules: Vec<(Rule, Option<glob::Pattern>)>,
    protect: std::collections::BTreeSet<&'a str>,
    unprotect: std::collections::BTreeSet<&'a str>,
}

impl<'a> Protection<'a> {
    pub fn new(rules: &[Rule], protect: &'a [String], unprotect: &'a [String]) -> Self {
        Protection {
            rules: rules
                .iter()
                .map(|r| {
                    let compiled = match r {
                        Rule::Name { pattern } => glob::Pattern::new(pattern).ok(),
                        _ => None,
                    };
                    (r.clone(), compiled)
                })
                .collect(),
            protect: protect.iter().map(String::as_str).collect(),
            unprotect: unprotect.iter().map(String::as_str).collect(),
        }
    }

    /// Single hosts win over rules: protected by the operator, or an exception to a rule.
    pub fn decide(&self, id: &str, f: &Facts<'_>) -> Decision {
        if self.protect.contains(id) {
            return Decision::Operator;
        }
        if self.unprotect.contains(id) {
            return Decision::Exception;
        }
        let first = self
            .rules
            .iter()
            .find(|(r, p)| r.matches_compiled(f, p.as_ref()));
        match first {
            Some((r, _)) => Decision::Rule(r.clone()),
            None => Decision::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(name: &'a str, subnet: &'a str, tags: &'a [(String, String)]) -> Facts<'a> {
        Facts {
            name,
            subnet_id: subnet,
            tags,
            has_dns: false,
        }
    }

    #[test]
    fn each_rule_kind_selects_what_it_says() {
        let tags = vec![("team".to_owned(), "Payments".to_owned())];
        let f = facts("Web-01", "subnet-aa11", &tags);
        assert!(Rule::parse("tag", "team=payments").unwrap().matches(&f));
        assert!(!Rule::parse("tag", "team=search").unwrap().matches(&f));
        assert!(!Rule::parse("tag", "owner=payments").unwrap().matches(&f));
        assert!(Rule::parse("subnet", "subnet-aa11").unwrap().matches(&f));
        assert!(!Rule::parse("subnet", "subnet-aa1").unwrap().matches(&f));
        assert!(Rule::parse("name", "web-*").unwrap().matches(&f));
        assert!(Rule::parse("name", "web-0[1-3]").unwrap().matches(&f));
        assert!(!Rule::parse("name", "web-1*").unwrap().matches(&f));
        assert!(!Rule::Dns.matches(&f));
        assert!(Rule::Dns.matches(&Facts { has_dns: true, ..f }));
    }

    #[test]
    fn bad_rules_say_what_to_type() {
        assert!(
            Rule::parse("name", "  ")
                .unwrap_err()
                .contains("type a name pattern")
        );
        assert!(
            Rule::parse("name", "web-[")
                .unwrap_err()
                .contains("not a valid name pattern")
        );
        assert!(
            Rule::parse("subnet", "vpc-123")
                .unwrap_err()
                .contains("subnet-1a2b3c4d")
        );
        assert!(Rule::parse("subnet", "subnet-").is_err());
        assert!(
            Rule::parse("tag", "team")
                .unwrap_err()
                .contains("key=value")
        );
        assert!(Rule::parse("tag", "=x").is_err());
        assert!(Rule::parse("color", "red").is_err());
    }

    #[test]
    fn single_hosts_win_over_rules() {
        let rules = [Rule::parse("name", "db-*").unwrap()];
        let (protect, unprotect) = (vec!["ins-b".to_owned()], vec!["ins-a".to_owned()]);
        let p = Protection::new(&rules, &protect, &unprotect);
        let db = facts("db-1", "subnet-1", &[]);
        let web = facts("web-1", "subnet-1", &[]);
        assert_eq!(p.decide("ins-a", &db), Decision::Exception);
        assert_eq!(p.decide("ins-b", &web), Decision::Operator);
        assert_eq!(p.decide("ins-c", &db), Decision::Rule(rules[0].clone()));
        assert_eq!(p.decide("ins-d", &web), Decision::Open);
        // An exception for a host no rule matches is still the operator's recorded decision.
        assert_eq!(p.decide("ins-a", &web), Decision::Exception);
        assert!(!p.decide("ins-a", &web).protected());
    }

    #[test]
    fn stored_rules_decode_strictly() {
        let r: Rule = serde_json::from_str(r#"{"by":"name","pattern":"web-*"}"#).unwrap();
        assert_eq!(r, Rule::parse("name", "web-*").unwrap());
        assert!(serde_json::from_str::<Rule>(r#"{"by":"colour","value":"x"}"#).is_err());
        assert!(serde_json::from_str::<Rule>(r#"{"by":"name"}"#).is_err());
    }
}
