//! The region service (`region`, 2022-06-27): DescribeRegions (reference-2 §5.2). Used with
//! `Product=vpc` (§5.3): the CVM action of the same name is frozen.

use serde::{Deserialize, Serialize};

use crate::tencent::models::common::{action, null_as_default};

action!(
    /// Regions where a product is offered: 50/s.
    DescribeRegions: DescribeRegionsRequest => DescribeRegionsResponse, Region, Safe, 50
);

/// `DescribeRegionsRequest` (request).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DescribeRegionsRequest {
    pub product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene: Option<i64>,
}

/// `DescribeRegionsResponse` (response).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRegionsResponse {
    #[serde(deserialize_with = "null_as_default")]
    pub total_count: u64,
    #[serde(deserialize_with = "null_as_default")]
    pub region_set: Vec<RegionInfo>,
}

/// `RegionInfo` (object). The four `…MC` fields are console-only and `null` for API calls.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegionInfo {
    #[serde(deserialize_with = "null_as_default")]
    pub region: String,
    #[serde(deserialize_with = "null_as_default")]
    pub region_name: String,
    /// Only `AVAILABLE` is documented; anything else is unusable (§5.3).
    #[serde(deserialize_with = "null_as_default")]
    pub region_state: String,
    #[serde(rename = "RegionTypeMC")]
    pub region_type_mc: Option<i64>,
    #[serde(rename = "LocationMC")]
    pub location_mc: Option<String>,
    #[serde(rename = "RegionNameMC")]
    pub region_name_mc: Option<String>,
    #[serde(rename = "RegionIdMC")]
    pub region_id_mc: Option<String>,
}
