//! The Assess step's exposure table query: server-side sort, filters and keyset page
//! cursor as query parameters (plain links and a GET form, so the table works without
//! JavaScript), cleaned to known values before any link is built from them.

use serde::{Deserialize, Serialize};

use crate::store::exposure::{ExposureFilter, PageAt, SortColumn, SortValue};

/// The table's query parameters, exactly as they travel in links and the filter form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExposureQuery {
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub protected: String,
    #[serde(default)]
    pub agent: String,
    /// `yes`: only instances that keep their egress IP; `no`: only the others.
    #[serde(default)]
    pub keeps: String,
    /// Keyset cursor `<sort key>~<instance id>`: the page after that row.
    #[serde(default)]
    pub after: String,
    /// The page before that row.
    #[serde(default)]
    pub before: String,
    /// `last` for the last page.
    #[serde(default)]
    pub page: String,
}

/// (key in the query, column heading), in table order.
pub const COLUMNS: [(&str, &str); 9] = [
    ("instance", "Instance"),
    ("subnet", "Subnet"),
    ("private_ip", "Private IP"),
    ("public_ip", "Public IP"),
    ("kind", "Kind"),
    ("dns", "DNS names"),
    ("egress", "Baseline egress"),
    ("agent", "Agent"),
    ("protected", "Protected"),
];

impl ExposureQuery {
    /// Only known values survive, so links built from it never carry junk back.
    pub fn cleaned(&self) -> ExposureQuery {
        let known = |v: &str, allowed: &[&str]| {
            if allowed.contains(&v) {
                v.to_owned()
            } else {
                String::new()
            }
        };
        let sorts: Vec<&str> = COLUMNS.iter().map(|(k, _)| *k).collect();
        ExposureQuery {
            sort: known(self.sort.trim(), &sorts),
            dir: known(self.dir.trim(), &["asc", "desc"]),
            q: self.q.trim().chars().take(100).collect(),
            kind: known(self.kind.trim(), &["eip", "ordinary", "none", "public"]),
            protected: known(self.protected.trim(), &["yes", "no"]),
            agent: known(self.agent.trim(), &["online", "offline"]),
            keeps: known(self.keeps.trim(), &["yes", "no"]),
            after: cursor_text(&self.after),
            before: cursor_text(&self.before),
            page: known(self.page.trim(), &["last"]),
        }
    }

    pub fn sort_key(&self) -> &str {
        if self.sort.is_empty() {
            "instance"
        } else {
            &self.sort
        }
    }

    /// The sort column as its heading reads ("Public IP"), for the table's caption.
    pub fn sort_heading(&self) -> &'static str {
        let key = self.sort_key();
        COLUMNS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("Instance", |(_, heading)| heading)
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    pub fn is_filtered(&self) -> bool {
        !(self.q.is_empty()
            && self.kind.is_empty()
            && self.protected.is_empty()
            && self.agent.is_empty()
            && self.keeps.is_empty())
    }

    /// `?sort=…` for this view, empty parameters left out.
    pub fn to_query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("sort", self.sort.as_str()),
            ("dir", self.dir.as_str()),
            ("q", self.q.as_str()),
            ("kind", self.kind.as_str()),
            ("protected", self.protected.as_str()),
            ("agent", self.agent.as_str()),
            ("keeps", self.keeps.as_str()),
            ("after", self.after.as_str()),
            ("before", self.before.as_str()),
            ("page", self.page.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        match serde_urlencoded::to_string(pairs) {
            Ok(s) if !s.is_empty() => format!("?{s}"),
            _ => String::new(),
        }
    }

    /// The link in a column heading: sorts by it, flipping the direction if it is the
    /// current sort column; filters are kept.
    pub fn sort_link(&self, key: &str) -> String {
        let dir = if self.sort_key() == key && !self.descending() {
            "desc"
        } else {
            "asc"
        };
        ExposureQuery {
            sort: key.to_owned(),
            dir: dir.to_owned(),
            ..self.first_page()
        }
        .to_query_string()
    }

    /// This view's sort without any filter (the "Clear filters" link).
    pub fn unfiltered(&self) -> String {
        ExposureQuery {
            sort: self.sort.clone(),
            dir: self.dir.clone(),
            ..ExposureQuery::default()
        }
        .to_query_string()
    }

    /// The `aria-sort` value of a column heading.
    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort_key() == key, self.descending()) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }
}

impl ExposureQuery {
    /// The same view from its first page (a new sort or filter starts there).
    pub fn first_page(&self) -> ExposureQuery {
        ExposureQuery {
            after: String::new(),
            before: String::new(),
            page: String::new(),
            ..self.clone()
        }
    }

    /// The link to the page after (`next`) or before a row, or to the last page.
    pub fn page_link(&self, at: &PageAt) -> String {
        let first = self.first_page();
        let with = match at {
            PageAt::First => first,
            PageAt::Last => ExposureQuery {
                page: "last".into(),
                ..first
            },
            PageAt::After(v, id) => ExposureQuery {
                after: cursor(v, id),
                ..first
            },
            PageAt::Before(v, id) => ExposureQuery {
                before: cursor(v, id),
                ..first
            },
        };
        with.to_query_string()
    }

    pub fn sort_column(&self) -> SortColumn {
        match self.sort_key() {
            "subnet" => SortColumn::Subnet,
            "private_ip" => SortColumn::PrivateIp,
            "public_ip" => SortColumn::PublicIp,
            "kind" => SortColumn::Kind,
            "dns" => SortColumn::Dns,
            "egress" => SortColumn::Egress,
            "agent" => SortColumn::Agent,
            "protected" => SortColumn::Protected,
            _ => SortColumn::Instance,
        }
    }

    /// Where the page starts; a cursor that does not parse for this sort means the first page.
    pub fn page_at(&self) -> PageAt {
        let col = self.sort_column();
        if let Some((v, id)) = parse_cursor(&self.after, col) {
            PageAt::After(v, id)
        } else if let Some((v, id)) = parse_cursor(&self.before, col) {
            PageAt::Before(v, id)
        } else if self.page == "last" {
            PageAt::Last
        } else {
            PageAt::First
        }
    }

    pub fn filter(&self) -> ExposureFilter {
        ExposureFilter {
            text: (!self.q.is_empty()).then(|| self.q.to_lowercase()),
            kind: (!self.kind.is_empty()).then(|| self.kind.clone()),
            protected: (!self.protected.is_empty()).then(|| self.protected == "yes"),
            agent_online: (!self.agent.is_empty()).then(|| self.agent == "online"),
            keeps_egress: (!self.keeps.is_empty()).then(|| self.keeps == "yes"),
        }
    }
}

fn cursor(v: &SortValue, id: &str) -> String {
    match v {
        SortValue::Int(i) => format!("{i}~{id}"),
        SortValue::Text(t) => format!("{t}~{id}"),
    }
}

/// Keeps a cursor only if it has the shape `<key>~<instance id>`, bounded in length.
fn cursor_text(raw: &str) -> String {
    let raw = raw.trim();
    match raw.rsplit_once('~') {
        Some((_, id))
            if raw.len() <= 400
                && !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            raw.to_owned()
        }
        _ => String::new(),
    }
}

fn parse_cursor(raw: &str, col: SortColumn) -> Option<(SortValue, String)> {
    let (key, id) = raw.rsplit_once('~')?;
    let value = if col.is_integer() {
        SortValue::Int(key.parse().ok()?)
    } else {
        SortValue::Text(key.to_owned())
    };
    Some((value, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caption_names_the_sort_column_as_its_heading_reads() {
        let by = |sort: &str| {
            ExposureQuery {
                sort: sort.into(),
                ..Default::default()
            }
            .cleaned()
            .sort_heading()
        };
        assert_eq!(by("public_ip"), "Public IP");
        assert_eq!(by("private_ip"), "Private IP");
        assert_eq!(by(""), "Instance");
        assert_eq!(by("rowid; drop table runs"), "Instance");
    }

    #[test]
    fn cursors_round_trip_and_junk_is_dropped() {
        let q = ExposureQuery {
            sort: "private_ip".into(),
            after: "167772162~ins-0001".into(),
            ..Default::default()
        }
        .cleaned();
        assert_eq!(
            q.page_at(),
            PageAt::After(SortValue::Int(167_772_162), "ins-0001".into())
        );
        let junk = ExposureQuery {
            sort: "private_ip".into(),
            after: "abc~ins-1".into(),
            before: "x~<script>".into(),
            ..Default::default()
        }
        .cleaned();
        assert_eq!(junk.before, "");
        assert_eq!(junk.page_at(), PageAt::First);
        // A new sort starts from the first page.
        assert!(!q.sort_link("subnet").contains("after"));
    }
}
