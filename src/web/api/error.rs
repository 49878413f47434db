//! API errors as JSON: a stable `code` a script can branch on, and a `message` in words.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::wizard::engine::{EngineError, StartError};

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// E.g. `unauthorized`, `forbidden`, `not_found`, `invalid_input`, `plan_changed`,
    /// `plan_blocked`, `conflict`, `approval_pending`, `approval_void`, `approval_expired`,
    /// `own_request`, or a Tencent error code of a failed cloud call.
    pub code: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"natpilot\""),
            );
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        tracing::error!(error = %e, "API: database error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the database could not be read or written; see the portal's log",
        )
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        let message = e.to_string();
        let (status, code) = match &e {
            EngineError::PlanChanged => (StatusCode::CONFLICT, "plan_changed".to_owned()),
            EngineError::Blocked(_) => (StatusCode::CONFLICT, "plan_blocked".to_owned()),
            EngineError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input".into()),
            EngineError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found".into()),
            EngineError::WrongState { .. } => (StatusCode::CONFLICT, "wrong_state".into()),
            EngineError::VpcBusy { .. } => (StatusCode::CONFLICT, "vpc_busy".into()),
            // A failed cloud call: Tencent's code; the message carries the RequestId.
            EngineError::Cloud(c) => (StatusCode::BAD_GATEWAY, c.code.clone()),
            EngineError::Record(_) => (StatusCode::CONFLICT, "natpilot.CorruptRecord".into()),
            EngineError::Approval(a) => super::approvals::error_code(a),
            EngineError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()),
        };
        let message = match &e {
            EngineError::Cloud(c) => format!(
                "{message} (RequestId {})",
                c.request_id.as_deref().unwrap_or("none")
            ),
            _ => message,
        };
        ApiError {
            status,
            code,
            message,
        }
    }
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> ApiError {
        let message = e.to_string();
        match e {
            StartError::VpcBusy { .. } => ApiError::new(StatusCode::CONFLICT, "vpc_busy", message),
            StartError::Invalid(_) => ApiError::invalid(message),
            StartError::Db(db) => db.into(),
        }
    }
}
