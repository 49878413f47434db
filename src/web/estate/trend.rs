//! The estate page's trend (issue 13 item 3): after each completed scan, how many servers of
//! the whole estate had a public IP and how many EIPs lay unbound, drawn as a server-rendered
//! SVG (no script, CSP-safe: presentation through classes in app.css) with the figures in a
//! table beside it for screen readers and for copying.
//!
//! Scans are per account, so the estate's figure after a scan is that scan's account plus the
//! newest earlier scan of every other account.

use std::collections::BTreeMap;

use sqlx::AnyPool;

use crate::store::estate_trend::{self, ScanTotals};

/// Points drawn at most (the newest), and scans read to know every account's figure at the
/// first of them.
const POINTS: usize = 60;
const SCANS_READ: i64 = 240;

/// The chart's drawing area, in SVG user units.
pub const WIDTH: i64 = 640;
pub const HEIGHT: i64 = 180;
const LEFT: i64 = 48;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const BOTTOM: i64 = 28;

/// The estate after one scan.
pub struct TrendPoint {
    pub at: i64,
    pub when: String,
    pub account: String,
    pub public_hosts: i64,
    pub eip_hosts: i64,
    pub ordinary_hosts: i64,
    pub unbound_eips: i64,
}

#[derive(Default)]
pub struct Trend {
    pub points: Vec<TrendPoint>,
}

/// The estate figures after each scan, oldest first, the newest `POINTS` of them.
pub fn points_of(scans: &[ScanTotals]) -> Vec<TrendPoint> {
    let mut latest: BTreeMap<&str, &ScanTotals> = BTreeMap::new();
    let mut out = Vec::with_capacity(scans.len());
    for s in scans {
        latest.insert(&s.account, s);
        let sum = |f: fn(&ScanTotals) -> i64| latest.values().map(|t| f(t)).sum::<i64>();
        let (eip, ordinary) = (sum(|t| t.eip_hosts), sum(|t| t.ordinary_hosts));
        out.push(TrendPoint {
            at: s.finished_at,
            when: chrono::DateTime::from_timestamp_millis(s.finished_at)
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            account: s.account.clone(),
            public_hosts: eip + ordinary,
            eip_hosts: eip,
            ordinary_hosts: ordinary,
            unbound_eips: sum(|t| t.unbound_eips),
        });
    }
    let skip = out.len().saturating_sub(POINTS);
    out.split_off(skip)
}

impl Trend {
    pub async fn load(db: &AnyPool) -> sqlx::Result<Trend> {
        let scans = estate_trend::recent(db, SCANS_READ).await?;
        Ok(Trend {
            points: points_of(&scans),
        })
    }

    /// Two points make a line; one is only a number.
    pub fn drawable(&self) -> bool {
        self.points.len() >= 2
    }

    /// The top of the value axis: the largest figure drawn (at least 1).
    pub fn max(&self) -> i64 {
        self.points
            .iter()
            .map(|p| p.public_hosts.max(p.unbound_eips))
            .max()
            .unwrap_or(0)
            .max(1)
    }

    fn x(&self, at: i64) -> i64 {
        let (first, last) = match (self.points.first(), self.points.last()) {
            (Some(f), Some(l)) if l.at > f.at => (f.at, l.at),
            _ => return LEFT,
        };
        LEFT + (at - first) * (WIDTH - LEFT - RIGHT) / (last - first)
    }

    fn y(&self, v: i64) -> i64 {
        HEIGHT - BOTTOM - v * (HEIGHT - TOP - BOTTOM) / self.max()
    }

    /// The `points` attribute of one series' polyline: `public` (servers with a public IP)
    /// or `unbound` (unbound EIPs).
    pub fn polyline(&self, series: &str) -> String {
        self.points
            .iter()
            .map(|p| {
                let v = match series {
                    "unbound" => p.unbound_eips,
                    _ => p.public_hosts,
                };
                format!("{},{}", self.x(p.at), self.y(v))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where the axes and their labels go (askama cannot do arithmetic on consts).
    pub fn left(&self) -> i64 {
        LEFT
    }
    pub fn right_edge(&self) -> i64 {
        WIDTH - RIGHT
    }
    pub fn top(&self) -> i64 {
        TOP
    }
    pub fn baseline(&self) -> i64 {
        HEIGHT - BOTTOM
    }
    pub fn date_line(&self) -> i64 {
        HEIGHT - 8
    }

    /// One sentence for the chart's description: first and last figure.
    pub fn summary(&self) -> String {
        match (self.points.first(), self.points.last()) {
            (Some(f), Some(l)) => format!(
                "Servers with a public IP across the estate went from {} on {} to {} on {}; \
                 unbound EIPs from {} to {}.",
                f.public_hosts, f.when, l.public_hosts, l.when, f.unbound_eips, l.unbound_eips
            ),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(id: i64, account: &str, at: i64, eip: i64, ordinary: i64) -> ScanTotals {
        ScanTotals {
            scan_id: id,
            account: account.into(),
            finished_at: at,
            eip_hosts: eip,
            ordinary_hosts: ordinary,
            unbound_eips: id,
        }
    }

    #[test]
    fn each_point_is_the_whole_estate_after_that_scan() {
        let scans = [
            scan(1, "a", 1_000, 5, 5),
            scan(2, "b", 2_000, 3, 0),
            scan(3, "a", 3_000, 1, 0),
        ];
        let points = points_of(&scans);
        let public: Vec<i64> = points.iter().map(|p| p.public_hosts).collect();
        // After b's first scan a still counts its 10; after a's second, a counts 1.
        assert_eq!(public, [10, 13, 4]);
        assert_eq!(points[2].unbound_eips, 3 + 2);
    }

    #[test]
    fn only_the_newest_points_are_drawn_and_they_span_the_chart() {
        let scans: Vec<ScanTotals> = (0..100).map(|i| scan(i, "a", i * 1_000, i, 0)).collect();
        let trend = Trend {
            points: points_of(&scans),
        };
        assert_eq!(trend.points.len(), POINTS);
        assert_eq!(trend.points[0].public_hosts, 40);
        let line = trend.polyline("public");
        let xs: Vec<i64> = line
            .split(' ')
            .map(|p| p.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(xs.first(), Some(&LEFT));
        assert_eq!(xs.last(), Some(&(WIDTH - RIGHT)));
        // The largest figure touches the top, zero would sit on the baseline.
        let ys: Vec<i64> = line
            .split(' ')
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ys.last(), Some(&TOP));
        assert!(ys.iter().all(|y| (TOP..=HEIGHT - BOTTOM).contains(y)));
    }
}
