//! Kept EIPs as the pages show them: one line per EIP (age, charge, when it may be released)
//! and the totals the estate page shows (what kept EIPs cost per month).

use chrono::{DateTime, Utc};

use crate::kept_eips::{KeptSettings, Price, config::HOURS_PER_MONTH};
use crate::web::pages::numbers::money;
use crate::wizard::engine::{KeptEip, release_from};

pub struct KeptLine {
    pub run: String,
    pub account: String,
    pub region: String,
    pub vpc_id: String,
    pub run_status: String,
    /// The run is finished, so its kept EIPs may be acted on.
    pub finished: bool,
    /// Empty when the record never learned it (no action is offered then).
    pub address_id: String,
    pub ip: String,
    pub how: String,
    /// Unbound (idle-charged); a converted IP bound back by a rollback is not.
    pub idle: bool,
    pub since: String,
    pub age: String,
    /// "0.20 CNY/hour", "none while bound" or "price not configured".
    pub per_hour: String,
    pub per_month: String,
    pub priced: bool,
    /// "now" or the time it may be released from.
    pub release_from: String,
    pub releasable: bool,
    pub cost_month: f64,
}

/// "3 d 4 h", "5 h 2 min", "12 min", "under a minute".
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let mins = (now - since).num_minutes().max(0);
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    match (d, h, m) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

pub fn line(k: &KeptEip, s: &KeptSettings, now: DateTime<Utc>) -> KeptLine {
    let from = release_from(k, s.soak);
    let (per_hour, per_month, priced, cost_month) = match (k.origin.idle(), s.idle_price(&k.region))
    {
        (false, _) => ("none while bound".into(), "none".into(), true, 0.0),
        (true, Price::PerHour(p)) => (
            format!("{} {}/hour", money(p), s.currency),
            format!("{} {}", money(p * HOURS_PER_MONTH), s.currency),
            true,
            p * HOURS_PER_MONTH,
        ),
        (true, Price::NotConfigured) => (
            "price not configured".into(),
            "price not configured".into(),
            false,
            0.0,
        ),
    };
    KeptLine {
        run: k.run.to_string(),
        account: k.account.clone(),
        region: k.region.clone(),
        vpc_id: k.vpc_id.clone(),
        run_status: k.run_status.to_string(),
        finished: !k.run_status.holds_vpc(),
        address_id: k.address_id.clone().unwrap_or_default(),
        ip: k.ip.clone(),
        how: k.origin.words(),
        idle: k.origin.idle(),
        since: k.since.format("%Y-%m-%d %H:%M UTC").to_string(),
        age: age(k.since, now),
        per_hour,
        per_month,
        priced,
        release_from: if now >= from {
            "now".into()
        } else {
            from.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        },
        releasable: now >= from,
        cost_month,
    }
}

/// The estate page's totals of kept EIPs.
pub struct KeptSummary {
    pub count: usize,
    /// How many are kept per (account, region, VPC), for the estate's VPC rows.
    pub per_vpc: std::collections::HashMap<(String, String, String), usize>,
    /// Idle ones with a configured price, per month, e.g. "292.00 CNY".
    pub per_month: String,
    /// Idle ones whose region has no configured price.
    pub unpriced: usize,
}

pub fn summarise(lines: &[KeptLine], s: &KeptSettings) -> KeptSummary {
    let total: f64 = lines.iter().map(|l| l.cost_month).sum();
    let mut per_vpc = std::collections::HashMap::new();
    for l in lines {
        *per_vpc
            .entry((l.account.clone(), l.region.clone(), l.vpc_id.clone()))
            .or_insert(0) += 1;
    }
    KeptSummary {
        count: lines.len(),
        per_vpc,
        per_month: format!("{} {}", money(total), s.currency),
        unpriced: lines.iter().filter(|l| l.idle && !l.priced).count(),
    }
}

/// The totals from the stored records (for the estate page).
pub async fn summary(
    state: &crate::app::AppState,
) -> Result<KeptSummary, crate::web::error::WebError> {
    let s = &state.settings.kept_eips;
    let now = Utc::now();
    let kept = state
        .engine
        .kept_eips(None)
        .await
        .map_err(|e| crate::web::error::WebError::Internal(e.into()))?;
    let lines: Vec<KeptLine> = kept.iter().map(|k| line(k, s, now)).collect();
    Ok(summarise(&lines, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_kept_eips_cost_zero_not_minus_zero() {
        let s = KeptSettings::default();
        let summary = summarise(&[], &s);
        assert_eq!(summary.per_month, format!("0.00 {}", s.currency));
    }

    #[test]
    fn ages_read_in_days_hours_and_minutes() {
        let now = Utc::now();
        assert_eq!(age(now, now), "under a minute");
        assert_eq!(age(now - chrono::Duration::minutes(12), now), "12 min");
        assert_eq!(age(now - chrono::Duration::minutes(62), now), "1 h 2 min");
        assert_eq!(age(now - chrono::Duration::hours(76), now), "3 d 4 h");
    }
}
