//! Helpers every list action shares: `Filters` (values OR'ed, filters AND'ed; unknown names
//! refused with the product's code), ids-vs-filters exclusivity, and `Offset`/`Limit` paging.

use crate::sim::error::{SimError, SimResult};
use crate::tencent::models::Filter;

/// Checked filters of one request.
pub struct Filters<'a> {
    filters: &'a [Filter],
}

impl<'a> Filters<'a> {
    /// Refuses names outside `known` (a trailing `*` in `known` matches a prefix, for
    /// `tag:<key>`) with `code` (e.g. `InvalidParameter.FilterInvalidKey`).
    pub fn new(
        filters: Option<&'a Vec<Filter>>,
        known: &[&str],
        code: &str,
    ) -> SimResult<Filters<'a>> {
        let filters = filters.map(Vec::as_slice).unwrap_or(&[]);
        for f in filters {
            let ok = known.iter().any(|k| match k.strip_suffix('*') {
                Some(prefix) => f.name.starts_with(prefix),
                None => f.name == *k,
            });
            if !ok {
                return Err(SimError::new(
                    code,
                    format!(
                        "The filter `{}` is not supported; supported filters: {}.",
                        f.name,
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(Filters { filters })
    }

    /// Values of filter `name`, if given.
    pub fn values(&self, name: &str) -> Option<&'a [String]> {
        self.filters
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.values.as_slice())
    }

    /// True when filter `name` is absent or one of its values equals `actual`.
    pub fn allows(&self, name: &str, actual: &str) -> bool {
        self.values(name)
            .is_none_or(|vs| vs.iter().any(|v| v == actual))
    }

    /// Like `allows`, case-insensitive (states, booleans).
    pub fn allows_ci(&self, name: &str, actual: &str) -> bool {
        self.values(name)
            .is_none_or(|vs| vs.iter().any(|v| v.eq_ignore_ascii_case(actual)))
    }

    /// True when filter `name` is absent or `actual` contains one of its values (fuzzy names).
    pub fn allows_substring(&self, name: &str, actual: &str) -> bool {
        self.values(name)
            .is_none_or(|vs| vs.iter().any(|v| actual.contains(v.as_str())))
    }

    /// Tag filters: `tag-key` and `tag:<key>` against `(key, value)` pairs.
    pub fn allows_tags<'t>(&self, tags: impl Iterator<Item = (&'t str, &'t str)> + Clone) -> bool {
        let key_ok = self
            .values("tag-key")
            .is_none_or(|vs| tags.clone().any(|(k, _)| vs.iter().any(|v| v == k)));
        key_ok
            && self
                .filters
                .iter()
                .all(|f| match f.name.strip_prefix("tag:") {
                    Some(key) => tags
                        .clone()
                        .any(|(k, v)| k == key && f.values.iter().any(|x| x == v)),
                    None => true,
                })
    }
}

/// `Ids` and `Filters` cannot be combined (`InvalidParameter.Coexist`).
pub fn exclusive(
    ids: Option<&Vec<String>>,
    filters: Option<&Vec<Filter>>,
    code: &str,
) -> SimResult<()> {
    if ids.is_some_and(|i| !i.is_empty()) && filters.is_some_and(|f| !f.is_empty()) {
        return Err(SimError::new(
            code,
            "The ids parameter and `Filters` cannot be specified at the same time.",
        ));
    }
    Ok(())
}

/// Validated `(offset, limit)`: limit defaults to `default`, must be within `1..=max`.
pub fn paging(
    offset: Option<u64>,
    limit: Option<u64>,
    default: u64,
    max: u64,
) -> SimResult<(usize, usize)> {
    let limit = limit.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(SimError::new(
            "InvalidParameterValue.LimitExceeded",
            format!("`Limit` must be between 1 and {max}, got {limit}."),
        ));
    }
    Ok((offset.unwrap_or(0) as usize, limit as usize))
}

/// Signed paging numbers (CVM and EIP declare them `Integer`): negative is invalid.
pub fn unsigned(value: Option<i64>, name: &str) -> SimResult<Option<u64>> {
    match value {
        Some(v) if v < 0 => Err(SimError::new(
            "InvalidParameterValue.Range",
            format!("`{name}` must not be negative, got {v}."),
        )),
        other => Ok(other.map(|v| v as u64)),
    }
}

/// One page of `items`.
pub fn page<T: Clone>(items: &[T], offset: usize, limit: usize) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

/// A malformed resource id, e.g. `vpc-` + 8 lower-case letters/digits (reference §4.1, §4.24).
pub fn check_id(id: &str, prefix: &str, code: &str) -> SimResult<()> {
    let ok = id
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(SimError::new(
            code,
            format!(
                "The id `{id}` is malformed; expected `{prefix}-` followed by lower-case letters and digits."
            ),
        ))
    }
}
