//! The route table: every route is registered here together with who may use it, so the
//! access check (`access::enforce`) and the authorization tests share one source of truth
//! and a new route cannot be added without deciding its access level.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    handler::Handler,
    http::Method,
    routing::{MethodFilter, on},
};

use crate::app::AppState;

/// Who may use a route. Ordered: each level includes the ones after `Open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// No session needed (`/login`, `/healthz`, static assets, the setup link).
    Open,
    /// Any signed-in user.
    Viewer,
    /// Operators and admins (start and drive runs; per-run ownership is checked in the handler).
    Operator,
    /// Admins only.
    Admin,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    /// The path template as axum matches it, e.g. `/runs/{id}`.
    pub path: &'static str,
    pub access: Access,
}

impl RouteSpec {
    /// Whether requests to this route change state (and so need CSRF checks, and are
    /// refused to viewers).
    pub fn is_mutating(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD)
    }
}

/// The access table consulted on every request, keyed by (method, path template).
#[derive(Clone, Debug, Default)]
pub struct AccessTable(Arc<HashMap<(Method, &'static str), Access>>);

impl AccessTable {
    pub fn lookup(&self, method: &Method, path: &str) -> Option<Access> {
        // axum answers HEAD with the GET handler; the access level is the GET one.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0.get(&(method.clone(), path)).copied()
    }
}

/// A router under construction that records each route's access level.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteSpec>,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }
}

impl Routes {
    pub fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, access, handler)
    }

    pub fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        assert!(
            access != Access::Open || OPEN_POSTS.contains(&path),
            "open POST route {path}"
        );
        self.add(Method::POST, path, access, handler)
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, access: Access, h: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("GET and POST are filters");
        self.router = self.router.route(path, on(filter, h));
        self.table.push(RouteSpec {
            method,
            path,
            access,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>, AccessTable) {
        let map = self
            .table
            .iter()
            .map(|r| ((r.method.clone(), r.path), r.access))
            .collect();
        (self.router, self.table, AccessTable(Arc::new(map)))
    }
}

/// The only state-changing routes reachable without a session (still CSRF-checked, against
/// the pre-session cookie of `auth::pre_session`).
const OPEN_POSTS: &[&str] = &["/login", "/setup/{token}", "/auth/oidc/start"];
