//! `/accounts`: every cloud account with its uin (from STS GetCallerIdentity, asked when the
//! page is opened for accounts not identified yet), where its keys come from (never a
//! secret), and for a broken entry what is wrong with it.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::{app::AppState, estate::IdentityState, web::layout::Layout};

pub struct AccountRow {
    pub label: String,
    pub is_default: bool,
    pub uin: String,
    pub arn: String,
    pub source: String,
    pub region: String,
    /// "usable", or the reason it is not.
    pub problem: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "estate/accounts.html")]
pub struct AccountsPage {
    layout: Layout,
    rows: Vec<AccountRow>,
}

pub async fn page(State(state): State<AppState>, layout: Layout) -> AccountsPage {
    state.accounts.identify_all().await;
    let rows = state
        .accounts
        .all()
        .iter()
        .map(|a| {
            let (uin, arn, identity_problem) = match a.identity() {
                IdentityState::Known(i) => (i.uin, i.arn, None),
                IdentityState::NotAsked => (String::new(), String::new(), None),
                IdentityState::Failed(why) => (
                    String::new(),
                    String::new(),
                    Some(format!("STS does not accept these credentials: {why}")),
                ),
            };
            AccountRow {
                label: a.label.clone(),
                is_default: a.is_default,
                uin,
                arn,
                source: a.source.clone(),
                region: a.default_region.clone(),
                problem: a.client.as_ref().err().cloned().or(identity_problem),
            }
        })
        .collect();
    AccountsPage { layout, rows }
}
