//! List actions that page with `Offset`/`Limit`, and what "fetch every page" needs to know
//! about each of them. The client's `fetch_all` drives this trait; the models implement it.

use super::Action;

pub trait PagedAction: Action {
    /// One element of the listed set (e.g. `Instance`).
    type Item: Send;
    /// The largest `Limit` the action accepts (reference §4; e.g. 100 for DescribeInstances).
    const MAX_LIMIT: u64;
    /// A copy of `request` asking for `limit` items starting at `offset`.
    fn page_request(request: &Self::Request, offset: u64, limit: u64) -> Self::Request;
    /// Splits a page into its items and the total the server reports (`TotalCount`), if any.
    fn into_page(response: Self::Response) -> (Vec<Self::Item>, Option<u64>);
}
