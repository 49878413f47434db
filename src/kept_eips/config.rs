//! `[kept_eips]` (the soak period before a kept EIP may be released) and `[costs]` (what an
//! idle EIP costs per hour, per region).
//!
//! The default prices are the "IP resource fee" table of Tencent Cloud's EIP billing page
//! (qcloud-docs `弹性公网 IP/购买指南/IP 资源费用.md`, revision b88154c; summarised in
//! `tencent-api-2.md` §7.3): CNY per hour while the EIP is bound to nothing, the same for every
//! line type. Only regions whose code the reference names are filled in; any other region shows
//! "price not configured" until the operator adds it — natpilot never guesses a price. Prices
//! change (the page has 15 revisions) and no API quotes the idle fee, so the table is
//! configuration, not code: check it against the pricing page of your account.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// `[kept_eips]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeptEipsConfig {
    /// How long an EIP stays kept before it may be released, e.g. `"7d"`, `"36h"`, `"0"`.
    /// A week covers a weekly batch job or partner allowlist check noticing the old IP gone;
    /// until then the EIP can still be bound back (by rollback or from the page).
    #[serde(deserialize_with = "soak")]
    pub soak: Duration,
}

impl Default for KeptEipsConfig {
    fn default() -> Self {
        KeptEipsConfig { soak: DEFAULT_SOAK }
    }
}

/// Seven days (see [`KeptEipsConfig::soak`]).
pub const DEFAULT_SOAK: Duration = Duration::from_secs(7 * 24 * 3600);

fn soak<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_soak(&text).map_err(serde::de::Error::custom)
}

/// `"7d"`, `"36h"`, `"90m"`, `"30s"` or `"0"`.
pub fn parse_soak(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let fail =
        || format!("`{text}` is not a soak period; write e.g. \"7d\", \"36h\", \"90m\" or \"0\"");
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(fail)?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| fail())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(fail()),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(fail)
}

/// `[costs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostsConfig {
    /// The currency the prices are in (shown next to every amount).
    pub currency: String,
    /// Region code → price per hour of an idle (unbound) EIP. Replaces the default table as a
    /// whole when given, so a region left out shows "price not configured".
    pub idle_eip_per_hour: BTreeMap<String, f64>,
}

impl Default for CostsConfig {
    fn default() -> Self {
        CostsConfig {
            currency: "CNY".into(),
            idle_eip_per_hour: default_prices(),
        }
    }
}

/// §7.3's table, for the region codes the reference names: Chinese mainland, Jakarta, Seoul,
/// Frankfurt, São Paulo 0.20; Hong Kong, Singapore 0.30; Virginia, Silicon Valley, Bangkok,
/// Tokyo 0.25 (CNY/hour). Toronto, Moscow and Mumbai are in the table too, but their region
/// codes are not in the reference, so they are left for the operator to add.
pub fn default_prices() -> BTreeMap<String, f64> {
    let groups: [(&[&str], f64); 3] = [
        (
            &[
                "ap-guangzhou",
                "ap-shanghai",
                "ap-beijing",
                "ap-chengdu",
                "ap-chongqing",
                "ap-nanjing",
                "ap-jakarta",
                "ap-seoul",
                "eu-frankfurt",
                "sa-saopaulo",
            ],
            0.20,
        ),
        (&["ap-hongkong", "ap-singapore"], 0.30),
        (
            &["na-ashburn", "na-siliconvalley", "ap-bangkok", "ap-tokyo"],
            0.25,
        ),
    ];
    groups
        .iter()
        .flat_map(|(regions, price)| regions.iter().map(|r| ((*r).to_owned(), *price)))
        .collect()
}

/// Hours in an average month (8760 / 12), for "what kept EIPs cost per month".
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A price, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Price {
    PerHour(f64),
    NotConfigured,
}

/// What the pages and the engine need of `[kept_eips]` and `[costs]`, checked at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptSettings {
    pub soak: Duration,
    pub currency: String,
    pub prices: BTreeMap<String, f64>,
}

impl Default for KeptSettings {
    fn default() -> Self {
        KeptSettings::from_config(&KeptEipsConfig::default(), &CostsConfig::default())
            .expect("the default price table is valid")
    }
}

impl KeptSettings {
    /// Refuses a price that is negative or not a number, or a key that is not a region code,
    /// naming the key.
    pub fn from_config(kept: &KeptEipsConfig, costs: &CostsConfig) -> Result<KeptSettings, String> {
        for (region, price) in &costs.idle_eip_per_hour {
            crate::tencent::Region::parse(region)
                .map_err(|e| format!("costs.idle_eip_per_hour: key `{region}`: {e}"))?;
            if !price.is_finite() || *price < 0.0 {
                return Err(format!(
                    "costs.idle_eip_per_hour.{region}: {price} is not a price; give the price per hour as a number ≥ 0, e.g. 0.20"
                ));
            }
        }
        let currency = costs.currency.trim();
        if currency.is_empty() || currency.len() > 8 {
            return Err("costs.currency: give a currency code such as \"CNY\" or \"USD\"".into());
        }
        Ok(KeptSettings {
            soak: kept.soak,
            currency: currency.to_owned(),
            prices: costs.idle_eip_per_hour.clone(),
        })
    }

    pub fn idle_price(&self, region: &str) -> Price {
        match self.prices.get(region) {
            Some(p) => Price::PerHour(*p),
            None => Price::NotConfigured,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soak_periods_parse_and_nonsense_is_refused() {
        assert_eq!(parse_soak("7d").unwrap(), DEFAULT_SOAK);
        assert_eq!(parse_soak("36h").unwrap(), Duration::from_secs(36 * 3600));
        assert_eq!(parse_soak("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_soak("0s").unwrap(), Duration::ZERO);
        for bad in ["", "d", "7 days", "-1d", "1w"] {
            assert!(parse_soak(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_table_prices_only_regions_the_reference_names() {
        let s = KeptSettings::default();
        assert_eq!(s.idle_price("ap-guangzhou"), Price::PerHour(0.20));
        assert_eq!(s.idle_price("ap-hongkong"), Price::PerHour(0.30));
        assert_eq!(s.idle_price("ap-tokyo"), Price::PerHour(0.25));
        assert_eq!(s.idle_price("ap-mumbai"), Price::NotConfigured);
        assert_eq!(s.currency, "CNY");
    }

    #[test]
    fn a_bad_price_or_region_names_the_key() {
        let mut costs = CostsConfig::default();
        costs.idle_eip_per_hour.insert("ap-guangzhou".into(), -1.0);
        let e = KeptSettings::from_config(&KeptEipsConfig::default(), &costs).unwrap_err();
        assert!(e.contains("costs.idle_eip_per_hour.ap-guangzhou"), "{e}");
        let mut costs = CostsConfig::default();
        costs.idle_eip_per_hour.insert("Guangzhou!".into(), 0.2);
        let e = KeptSettings::from_config(&KeptEipsConfig::default(), &costs).unwrap_err();
        assert!(e.contains("Guangzhou!"), "{e}");
    }
}
