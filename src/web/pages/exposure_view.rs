//! What step 1's page shows of the exposure: the counts per state, the protection rules with
//! how many instances each matches, and one page of the table (read through the stored rows'
//! indexes, so a page costs the same at 7 instances and at 50,000).

use crate::{
    app::AppState,
    store::{
        self, RunId,
        exposure::{PageAt, PageRow},
        exposure_counts::ExposureCounts,
    },
    web::error::WebError,
    wizard::{observed::PROTECTED_TAG, protection::Rule},
};

use super::{egress_words, exposure::ExposureQuery, run_actions::engine_error};

/// Rows per page: a screenful or two, and a page of HTML far under 150 KB.
pub const PAGE_SIZE: i64 = 50;

pub struct ExposureLine {
    pub instance_id: String,
    pub name: String,
    /// `key=value`, the protection tag left out (it shows as the reason).
    pub tags: Vec<String>,
    pub subnet_id: String,
    pub private_ip: String,
    pub public_ip: String,
    pub kind: &'static str,
    pub dns_names: String,
    pub egress: String,
    pub agent: &'static str,
    pub protected: bool,
    pub reason: String,
    /// Whether there can be an egress IP to keep: not when the baseline test found no way out.
    pub keepable: bool,
    /// Why it keeps its egress IP (issue 12), or empty.
    pub keep_reason: String,
}

/// A protection rule as the page lists it.
pub struct RuleLine {
    pub id: i64,
    pub text: String,
    pub matches: i64,
    pub added_by: String,
}

#[derive(Default)]
pub struct ExposureView {
    /// False until the assessment is stored.
    pub ready: bool,
    pub lines: Vec<ExposureLine>,
    pub counts: ExposureCounts,
    /// Rows the filters select (all pages).
    pub matching: i64,
    /// Matching rows before this page's first (0 on the first page).
    pub before: i64,
    /// Instances that keep their egress IP (issue 12), whatever the filters.
    pub keeps_egress: i64,
    /// Egress IPs several instances share (gateways, proxies), with how many use each.
    pub shared_egress: Vec<(String, i64)>,
    pub rules: Vec<RuleLine>,
    /// Query strings of the page links; `None` where there is no such page.
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

impl ExposureView {
    pub fn total(&self) -> i64 {
        self.counts.instances
    }

    pub fn paged(&self) -> bool {
        self.prev.is_some() || self.next.is_some()
    }

    pub fn page_size(&self) -> i64 {
        PAGE_SIZE
    }

    /// Where this page sits among the matching rows: "rows 51–100 of 5,000".
    pub fn range(&self) -> String {
        let first = self.before + 1;
        let last = self.before + self.lines.len() as i64;
        format!(
            "rows {}–{} of {}",
            self.n(first),
            self.n(last),
            self.n(self.matching)
        )
    }

    /// A count with thousands separators ("50,000").
    pub fn n(&self, v: impl std::borrow::Borrow<i64>) -> String {
        super::numbers::signed(*v.borrow())
    }

    /// Why the protected instances are protected, in words ("12 by DNS, 3 by tag").
    pub fn reasons(&self) -> String {
        let c = &self.counts;
        [
            (c.by_dns, "by DNS"),
            (c.by_tag, "by tag"),
            (c.by_subnet, "by subnet"),
            (c.by_name, "by name pattern"),
            (c.by_operator, "chosen by an operator"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{} {why}", self.n(*n)))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

fn line(r: PageRow) -> Result<ExposureLine, WebError> {
    let tags: Vec<(String, String)> = serde_json::from_str(&r.tags).map_err(|e| {
        WebError::Internal(anyhow::anyhow!(
            "the stored tags of {} do not decode ({e})",
            r.instance_id
        ))
    })?;
    let egress = match r.egress_outcome.as_str() {
        "ip" if r.egress_ip == r.public_ip => format!("{} (its own public IP)", r.egress_ip),
        "ip" => r.egress_ip.clone(),
        "failed" => egress_words::failed(&r.egress_detail),
        "untestable" => egress_words::untestable(&r.egress_detail),
        _ => "not tested".into(),
    };
    Ok(ExposureLine {
        keepable: r.egress_outcome != "failed",
        tags: tags
            .iter()
            .filter(|(k, _)| k != PROTECTED_TAG.0)
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        kind: match r.kind.as_str() {
            "eip" => "EIP",
            "ordinary" => "ordinary",
            _ => "none",
        },
        agent: if r.agent_online { "online" } else { "offline" },
        egress,
        instance_id: r.instance_id,
        name: r.name,
        subnet_id: r.subnet_id,
        private_ip: r.private_ip,
        public_ip: r.public_ip,
        dns_names: r.dns_names,
        protected: r.protected,
        reason: r.reason,
        keep_reason: r.keep_reason,
    })
}

fn rule_text(rule: &Rule) -> String {
    match rule {
        Rule::Dns => "By DNS: instances whose public IP backs a DNS record".into(),
        Rule::Tag { key, value } => format!("By tag: {key}={value}"),
        Rule::Subnet { subnet_id } => format!("By subnet: {subnet_id}"),
        Rule::Name { pattern } => format!("By name pattern: {pattern}"),
    }
}

/// Counts, rules and the page `query` names.
pub async fn load(
    state: &AppState,
    run: RunId,
    query: &ExposureQuery,
) -> Result<ExposureView, WebError> {
    if !state
        .engine
        .exposure_ready(run)
        .await
        .map_err(engine_error)?
    {
        return Ok(ExposureView::default());
    }
    let db = state.store.readers();
    let filter = query.filter();
    let at = query.page_at();
    let (sort, desc) = (query.sort_column(), query.descending());
    let mut rows = store::exposure::page(db, run, &filter, sort, desc, &at, PAGE_SIZE + 1).await?;
    let backwards = matches!(at, PageAt::Last | PageAt::Before(..));
    // One row more than a page says whether there is a page further in the read direction.
    let more = rows.len() as i64 > PAGE_SIZE;
    if more && backwards {
        rows.remove(0);
    } else if more {
        rows.pop();
    }
    let (has_prev, has_next) = match at {
        PageAt::First => (false, more),
        PageAt::After(..) => (true, more),
        PageAt::Last => (more, false),
        PageAt::Before(..) => (more, true),
    };
    let edge = |r: Option<&PageRow>, after: bool| {
        r.map(|r| {
            let at = if after {
                PageAt::After(r.key.clone(), r.instance_id.clone())
            } else {
                PageAt::Before(r.key.clone(), r.instance_id.clone())
            };
            query.page_link(&at)
        })
    };
    let next = edge(rows.last(), true).filter(|_| has_next);
    let prev = edge(rows.first(), false).filter(|_| has_prev);
    let rules = state
        .engine
        .protection_rules(run)
        .await
        .map_err(engine_error)?
        .into_iter()
        .map(|(id, rule, matches, added_by)| RuleLine {
            id,
            text: rule_text(&rule),
            matches,
            added_by,
        })
        .collect();
    let mut conn = db.acquire().await?;
    // Counted once when the rows were written, protection counts added now; a run without a
    // stored summary (written by an older version) is counted here.
    let summary = match store::exposure_counts::summary(&mut conn, run).await? {
        Some(s) => s,
        None => store::exposure_counts::Summary {
            counts: store::exposure_counts::scan(&mut *conn, run).await?,
            shared_egress: store::exposure_counts::shared_egress_ips(&mut *conn, run, 5).await?,
            keep_shared: None,
        },
    };
    let matching = if query.is_filtered() {
        store::exposure::count_matching(&mut *conn, run, &filter).await?
    } else {
        summary.counts.instances
    };
    let keeps_egress = store::exposure::count_keeps_egress(&mut *conn, run).await?;
    let before = match rows.first() {
        Some(r) if has_prev => {
            store::exposure::count_before(
                &mut *conn,
                run,
                &filter,
                sort,
                desc,
                &r.key,
                &r.instance_id,
            )
            .await?
        }
        _ => 0,
    };
    Ok(ExposureView {
        before,
        ready: true,
        keeps_egress,
        lines: rows.into_iter().map(line).collect::<Result<_, _>>()?,
        counts: summary.counts,
        matching,
        shared_egress: summary.shared_egress,
        rules,
        first: has_prev.then(|| query.page_link(&PageAt::First)),
        last: has_next.then(|| query.page_link(&PageAt::Last)),
        prev,
        next,
    })
}
