//! `SimError`: one Tencent Cloud API error (`Code` + `Message`) as the simulator answers it
//! inside the ordinary HTTP 200 envelope (reference §3.1–3.2).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    pub code: String,
    pub message: String,
}

impl SimError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> SimError {
        SimError {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: &str, id: &str) -> SimError {
        SimError::new(
            "ResourceNotFound",
            format!("The specified {what} `{id}` does not exist."),
        )
    }

    pub fn invalid_value(message: impl Into<String>) -> SimError {
        SimError::new("InvalidParameterValue", message)
    }

    pub fn missing(name: &str) -> SimError {
        SimError::new(
            "MissingParameter",
            format!("The request is missing a required parameter `{name}`."),
        )
    }

    pub fn internal(message: impl Into<String>) -> SimError {
        SimError::new("InternalError", message)
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for SimError {}

pub type SimResult<T> = Result<T, SimError>;
