//! What the base template needs on every page: the cloud banner, the signed-in user, the
//! CSRF token (hidden form fields and htmx's `hx-headers`). Extracted once per handler.

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{app::AppState, store::users::Role};

use super::auth::session::{CurrentUser, SessionCtx};

#[derive(Clone, Debug)]
pub struct Layout {
    pub banner: String,
    pub simulated: bool,
    pub user: Option<CurrentUser>,
    pub csrf: String,
    /// Approval requests the signed-in user could decide now (the nav's count).
    pub pending_approvals: i64,
}

impl Layout {
    /// A layout without session data (error pages rendered outside the session layer).
    pub fn bare(state: &AppState) -> Layout {
        Layout {
            banner: state.settings.cloud.banner(),
            simulated: state.settings.cloud.is_simulated(),
            user: None,
            csrf: String::new(),
            pending_approvals: 0,
        }
    }

    pub fn from_session(state: &AppState, session: Option<&SessionCtx>) -> Layout {
        let mut layout = Layout::bare(state);
        if let Some(s) = session {
            layout.user = s.user.clone();
            layout.csrf = s.csrf.clone();
        }
        layout
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    pub fn can_operate(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role >= Role::Operator)
    }
}

impl FromRequestParts<AppState> for Layout {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut layout = Layout::from_session(state, parts.extensions.get::<SessionCtx>());
        if let Some(u) = &layout.user {
            // A count is no reason to fail a page: logged, shown as none.
            let n = crate::store::approvals::count_for_cached(&state.store, &u.name, u.role);
            layout.pending_approvals = n.await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not count pending approvals");
                0
            });
        }
        Ok(layout)
    }
}
