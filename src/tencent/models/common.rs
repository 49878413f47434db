//! Shapes shared by every product's models: `Filter`, `Tag`, the two number encodings Tencent
//! mixes (numbers sent as JSON strings, e.g. `Offset: "0"`), and the macros that declare an
//! action marker and its paging. Nothing product-specific lives here.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list filter (reference §4 conventions): values of one filter are OR'ed, filters are AND'ed.
/// Boolean filter values are the strings `"TRUE"`/`"FALSE"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new(
        name: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Filter {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// A filter with exactly one value, the common case (`vpc-id`, `instance-id`, ...).
    pub fn one(name: impl Into<String>, value: impl Into<String>) -> Self {
        Filter::new(name, [value.into()])
    }
}

/// A resource tag (VPC, CVM and TAT share this shape). VPC's api.json marks `Value` optional,
/// so a missing one reads as empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Reads JSON `null` as the type's default. Every non-nullable response field uses it: the
/// real API sometimes sends `null` where api.json promises a value, and one such field must
/// not make a whole DescribeInstances page unreadable.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// An unsigned integer that Tencent declares as a **String** on the wire: `Offset`/`Limit` of
/// DescribeVpcs/DescribeSubnets/DescribeRouteTables and the EIP `TaskId`s (reference §4
/// "Paging type quirk", §4.13, §4.21). Serializes as `"42"`; reads `"42"` or `42`, because the
/// official clients are not consistent either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct U64Str(pub u64);

/// An unsigned integer declared as an **Integer** on the wire that some callers send as a
/// string (e.g. `DescribeTaskResult.TaskId`, which other actions return as a string, reference
/// §4.21). Serializes as `42`; reads `42` or `"42"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct U64Num(pub u64);

macro_rules! lenient_u64 {
    ($ty:ident, $serialize:expr) => {
        impl $ty {
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $ty {
            fn from(value: u64) -> Self {
                $ty(value)
            }
        }

        impl From<$ty> for u64 {
            fn from(value: $ty) -> u64 {
                value.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let write: fn(u64, S) -> Result<S::Ok, S::Error> = $serialize;
                write(self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(LenientU64).map($ty)
            }
        }
    };
}

lenient_u64!(U64Str, |value, serializer| serializer.collect_str(&value));
lenient_u64!(U64Num, |value, serializer| serializer.serialize_u64(value));

/// Accepts a non-negative integer as a JSON number or as a decimal string.
struct LenientU64;

impl Visitor<'_> for LenientU64 {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<u64, E> {
        value
            .trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}

/// The integer types api.json uses for `Offset`/`Limit`/`TotalCount` (`uint64`, `int64`, or a
/// string), converted to the `u64` the paging trait speaks. Negative values clamp to 0.
pub trait PageNumber {
    fn from_u64(value: u64) -> Self;
    fn to_u64(self) -> u64;
}

impl PageNumber for u64 {
    fn from_u64(value: u64) -> Self {
        value
    }
    fn to_u64(self) -> u64 {
        self
    }
}

impl PageNumber for i64 {
    fn from_u64(value: u64) -> Self {
        i64::try_from(value).unwrap_or(i64::MAX)
    }
    fn to_u64(self) -> u64 {
        u64::try_from(self).unwrap_or(0)
    }
}

impl PageNumber for U64Str {
    fn from_u64(value: u64) -> Self {
        U64Str(value)
    }
    fn to_u64(self) -> u64 {
        self.0
    }
}

/// Declares an action marker: `action!(DescribeVpcs: DescribeVpcsRequest => DescribeVpcsResponse,
/// Vpc, Safe, 100)` — service, replay safety, documented rate limit (reference §3.5).
macro_rules! action {
    ($(#[$doc:meta])* $name:ident : $req:ty => $resp:ty, $svc:ident, $replay:ident, $rate:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl $crate::tencent::Action for $name {
            const SERVICE: $crate::tencent::Service = $crate::tencent::Service::$svc;
            const NAME: &'static str = stringify!($name);
            const REPLAY: $crate::tencent::Replay = $crate::tencent::Replay::$replay;
            const RATE_LIMIT_PER_SECOND: u32 = $rate;
            type Request = $req;
            type Response = $resp;
        }
    };
}

/// Implements `PagedAction` for an `Offset`/`Limit` list action whose response carries the
/// items in `$items` and the total in `$total` (reference §4: `Offset += Limit` until
/// `Offset >= TotalCount`).
macro_rules! paged {
    ($name:ty, item = $item:ty, items = $items:ident, total = $($total:ident).+, max = $max:expr) => {
        impl $crate::tencent::PagedAction for $name {
            type Item = $item;
            const MAX_LIMIT: u64 = $max;

            fn page_request(request: &Self::Request, offset: u64, limit: u64) -> Self::Request {
                let mut page = request.clone();
                page.offset = Some($crate::tencent::models::common::PageNumber::from_u64(
                    offset,
                ));
                page.limit = Some($crate::tencent::models::common::PageNumber::from_u64(limit));
                page
            }

            fn into_page(response: Self::Response) -> (Vec<$item>, Option<u64>) {
                let total = $crate::tencent::models::common::PageNumber::to_u64(response.$($total).+);
                (response.$items, Some(total))
            }
        }
    };
}

pub(crate) use {action, paged};
