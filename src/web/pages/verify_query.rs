//! The step 4 table's view: filters (verdict, kind, protected, exception, text), sort and a
//! keyset cursor (`after=<sort key>,<instance id>` of the last row shown) as query parameters,
//! so the table pages without JavaScript and a page never grows with the VPC; plus the counts
//! per state over the whole VPC shown above it.

use std::{cmp::Ordering, net::Ipv4Addr};

use serde::{Deserialize, Serialize};

pub use super::verify_counts::{VerifyCounts, thousands};
use super::verify_step::EgressLine;

/// Rows per page: small enough that a page stays a few dozen KB at any VPC size.
pub const PAGE_SIZE: usize = 50;

/// (key in the query, column heading) of the sortable columns.
pub const SORTS: [(&str, &str); 5] = [
    ("instance", "Instance"),
    ("public_ip", "Public IP"),
    ("kind", "Kind"),
    ("verdict", "Check"),
    ("plan", "Retire plan"),
];

/// The query parameters exactly as they travel in links and the filter form. `eip` and
/// `ordinary` carry the rules chosen on the page, so paging and editing exceptions keep them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct VerifyQuery {
    #[serde(default)]
    pub verdict: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub protected: String,
    #[serde(default)]
    pub exception: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub eip: String,
    #[serde(default)]
    pub ordinary: String,
    /// The VPC id typed to allow irreversible choices, kept like the rules so that an
    /// exception edit or a page turn does not clear it. Only the run's own VPC id is ever
    /// carried (`shown_input`); anything else is dropped there.
    #[serde(default)]
    pub vpc: String,
}

impl VerifyQuery {
    /// Only known values survive, so links built from it never carry junk back.
    pub fn cleaned(&self) -> VerifyQuery {
        let known = |v: &str, allowed: &[&str]| {
            let v = v.trim();
            if allowed.contains(&v) {
                v.to_owned()
            } else {
                String::new()
            }
        };
        let sorts: Vec<&str> = SORTS.iter().map(|(k, _)| *k).collect();
        VerifyQuery {
            verdict: known(&self.verdict, &["pass", "fail", "untestable", "untested"]),
            kind: known(&self.kind, &["eip", "ordinary", "none"]),
            protected: known(&self.protected, &["yes", "no"]),
            exception: known(&self.exception, &["yes", "no"]),
            q: self.q.trim().chars().take(100).collect(),
            sort: known(&self.sort, &sorts),
            dir: known(&self.dir, &["asc", "desc"]),
            after: self.after.trim().chars().take(200).collect(),
            eip: known(&self.eip, &["unbind", "release"]),
            ordinary: known(&self.ordinary, &["convert", "return"]),
            vpc: Some(self.vpc.trim())
                .filter(|v| {
                    v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .unwrap_or_default()
                .to_owned(),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("verdict", self.verdict.as_str()),
            ("kind", self.kind.as_str()),
            ("protected", self.protected.as_str()),
            ("exception", self.exception.as_str()),
            ("q", self.q.as_str()),
            ("sort", self.sort.as_str()),
            ("dir", self.dir.as_str()),
            ("after", self.after.as_str()),
            ("eip", self.eip.as_str()),
            ("ordinary", self.ordinary.as_str()),
            ("vpc", self.vpc.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }

    /// What the filter form carries besides the filters (rules and sort), as hidden fields.
    pub fn kept_by_filter(&self) -> Vec<(&'static str, &str)> {
        let keep = ["sort", "dir", "eip", "ordinary", "vpc"];
        self.pairs()
            .into_iter()
            .filter(|(k, _)| keep.contains(k))
            .collect()
    }

    /// `?verdict=…` for this view, empty parameters left out.
    pub fn to_query_string(&self) -> String {
        match serde_urlencoded::to_string(self.pairs()) {
            Ok(s) if !s.is_empty() => format!("?{s}"),
            _ => String::new(),
        }
    }

    pub(super) fn with(&self, f: impl FnOnce(&mut VerifyQuery)) -> String {
        let mut q = self.clone();
        f(&mut q);
        q.to_query_string()
    }

    pub fn sort_key(&self) -> &str {
        if self.sort.is_empty() {
            "instance"
        } else {
            &self.sort
        }
    }

    pub fn descending(&self) -> bool {
        self.dir == "desc"
    }

    /// A column heading's link: sorts by it (flipping the direction on the current column),
    /// filters kept, back to the first page.
    pub fn sort_link(&self, key: &str) -> String {
        let dir = if self.sort_key() == key && !self.descending() {
            "desc"
        } else {
            "asc"
        };
        self.with(|q| {
            (q.sort, q.dir, q.after) = (key.to_owned(), dir.to_owned(), String::new());
        })
    }

    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort_key() == key, self.descending()) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// The first page of this view.
    pub fn first_page(&self) -> String {
        self.with(|q| q.after.clear())
    }

    /// One filter set to `value` (empty: cleared), on the first page, sort and rules kept.
    pub fn filter_link(&self, name: &str, value: &str) -> String {
        self.with(|q| {
            q.after.clear();
            let slot = match name {
                "verdict" => &mut q.verdict,
                "kind" => &mut q.kind,
                "protected" => &mut q.protected,
                _ => &mut q.exception,
            };
            *slot = value.to_owned();
        })
    }

    /// No filter, same sort and rules, first page (the "Clear filters" link).
    pub fn unfiltered(&self) -> String {
        VerifyQuery {
            sort: self.sort.clone(),
            dir: self.dir.clone(),
            eip: self.eip.clone(),
            ordinary: self.ordinary.clone(),
            vpc: self.vpc.clone(),
            ..VerifyQuery::default()
        }
        .to_query_string()
    }

    pub fn is_filtered(&self) -> bool {
        [
            &self.verdict,
            &self.kind,
            &self.protected,
            &self.exception,
            &self.q,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    fn matches(&self, l: &EgressLine) -> bool {
        let text = self.q.to_lowercase();
        let text_ok = text.is_empty()
            || [&l.instance_id, &l.name, &l.public_ip]
                .iter()
                .any(|h| h.to_lowercase().contains(&text));
        let verdict_ok = match self.verdict.as_str() {
            "" => true,
            "untested" => l.verdict == "not tested",
            v => l.verdict == v,
        };
        let kind_ok = match self.kind.as_str() {
            "eip" => l.kind == "EIP",
            "ordinary" => l.kind == "ordinary",
            "none" => l.kind == "none",
            _ => true,
        };
        let yes_no = |f: &str, v: bool| f.is_empty() || (f == "yes") == v;
        text_ok
            && verdict_ok
            && kind_ok
            && yes_no(&self.protected, l.protected)
            && yes_no(&self.exception, l.exception.is_some())
    }
}

/// A line's sort key under `sort`, as a string that orders correctly (addresses as fixed-width
/// hex, no address last) and holds no comma, so it can travel in the cursor.
pub(super) fn sort_key(l: &EgressLine, sort: &str) -> String {
    match sort {
        "public_ip" => l
            .public_ip
            .parse::<Ipv4Addr>()
            .map_or_else(|_| "~".to_owned(), |ip| format!("{:08x}", u32::from(ip))),
        "kind" => l.kind.to_lowercase(),
        "verdict" => l.verdict.replace(' ', "-"),
        "plan" if l.action.is_empty() => "~".to_owned(),
        "plan" => l.action.to_owned(),
        _ => String::new(),
    }
}

/// One page of the table, the counts and the links around it.
#[derive(Default)]
pub struct VerifyTable {
    pub rows: Vec<EgressLine>,
    pub counts: VerifyCounts,
    pub query: VerifyQuery,
    /// Rows the filters select, over all pages.
    pub matching: usize,
    /// The next page's link, when there is one.
    pub next: Option<String>,
    /// The previous page's link, when this is a later page.
    pub prev: Option<String>,
    /// Where this page starts among the matching rows (0-based), for "rows 51–100 of 2,000".
    pub start: usize,
}

impl VerifyTable {
    /// Filters, sorts and cuts `lines` to the page after `query.after`.
    pub fn select(lines: Vec<EgressLine>, query: VerifyQuery) -> VerifyTable {
        let counts = VerifyCounts::of(&lines);
        let sort = query.sort_key().to_owned();
        let desc = query.descending();
        let mut shown: Vec<(String, EgressLine)> = lines
            .into_iter()
            .filter(|l| query.matches(l))
            .map(|l| (sort_key(&l, &sort), l))
            .collect();
        let order = |a: (&str, &str), b: (&str, &str)| {
            let o = a.cmp(&b);
            if desc { o.reverse() } else { o }
        };
        shown.sort_by(|(ka, a), (kb, b)| order((ka, &a.instance_id), (kb, &b.instance_id)));
        let matching = shown.len();
        let start = match query.after.split_once(',') {
            Some((key, id)) => shown.partition_point(|(k, l)| {
                order((k, &l.instance_id), (key, id)) != Ordering::Greater
            }),
            None => 0,
        };
        // The previous page starts PAGE_SIZE rows earlier: its cursor is the row just before
        // that, or none at all when it is the first page.
        let prev = (start > 0).then(|| match start.checked_sub(PAGE_SIZE + 1) {
            Some(i) => {
                let (key, l) = &shown[i];
                let cursor = format!("{key},{}", l.instance_id);
                query.with(|q| q.after = cursor)
            }
            None => query.with(|q| q.after.clear()),
        });
        let mut rows: Vec<EgressLine> = shown
            .into_iter()
            .skip(start)
            .take(PAGE_SIZE + 1)
            .map(|(_, l)| l)
            .collect();
        let next = (rows.len() > PAGE_SIZE).then(|| {
            rows.truncate(PAGE_SIZE);
            let last = rows.last().expect("a full page");
            let cursor = format!("{},{}", sort_key(last, &sort), last.instance_id);
            query.with(|q| q.after = cursor)
        });
        VerifyTable {
            rows,
            counts,
            query,
            matching,
            next,
            prev,
            start,
        }
    }

    /// "Rows 51–100 of 2,000" for the pager, or nothing when no row matches.
    pub fn position(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        format!(
            "Rows {}–{} of {}",
            thousands(self.start + 1),
            thousands(self.start + self.rows.len()),
            thousands(self.matching)
        )
    }

    pub fn sorts(&self) -> &'static [(&'static str, &'static str)] {
        &SORTS
    }

    /// Whether this is a later page (a "First page" link is offered).
    pub fn is_later_page(&self) -> bool {
        !self.query.after.is_empty()
    }

    /// The exception a row offers besides "keep": the other choice for its kind under the
    /// rule shown, as (submitted value, button text, irreversible).
    pub fn other_choice(&self, l: &EgressLine) -> (&'static str, &'static str, bool) {
        match (
            l.kind,
            self.query.eip.as_str(),
            self.query.ordinary.as_str(),
        ) {
            ("EIP", "release", _) => ("reversible", "Unbind and keep instead", false),
            ("EIP", _, _) => ("irreversible", "Release instead", true),
            (_, _, "return") => ("reversible", "Convert and keep instead", false),
            _ => ("irreversible", "Return instead", true),
        }
    }
}

#[cfg(test)]
mod tests;
