//! `/admin/users`: list users; add them, change roles, reset passwords, disable them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::{
    app::AppState,
    store::users::{self, User},
    web::{error::WebError, layout::Layout},
};

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    layout: Layout,
    users: Vec<User>,
}

pub async fn list(State(state): State<AppState>, layout: Layout) -> Result<UsersPage, WebError> {
    let users = users::list(state.store.readers()).await?;
    Ok(UsersPage { layout, users })
}
