//! The action registry: `(service, X-TC-Action)` → a handler over typed request/response
//! structs from `tencent::models`, so the simulator and the client share one definition.
//! Here raw bodies become `A::Request` (serde errors become the documented parameter error
//! codes) and `A::Response` becomes `{"Response": {…, "RequestId": …}}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use crate::sim::error::{SimError, SimResult};
use crate::sim::world::World;
use crate::tencent::{Action, Service};

/// A typed handler: the whole semantics of one action against the world.
pub type Handler<A> = fn(&mut World, <A as Action>::Request) -> SimResult<<A as Action>::Response>;

/// A handler that writes the JSON object of its response itself (without `RequestId`), for
/// answers assembled from cached fragments; its bytes must be those `A::Response` would
/// serialise to.
pub type EncodedHandler<A> = fn(&mut World, <A as Action>::Request, &mut Vec<u8>) -> SimResult<()>;

type Erased = Box<dyn Fn(&mut World, &[u8], &str) -> SimResult<Vec<u8>> + Send + Sync>;

pub struct Entry {
    pub name: &'static str,
    pub service: Service,
    pub rate_limit: u32,
    call: Erased,
}

impl Entry {
    /// Decodes, runs and encodes one call (the world is already advanced to now).
    pub fn call(&self, world: &mut World, body: &[u8], request_id: &str) -> SimResult<Vec<u8>> {
        (self.call)(world, body, request_id)
    }
}

#[derive(Default)]
pub struct Registry {
    entries: HashMap<(Service, &'static str), Entry>,
}

impl Registry {
    pub fn add<A: Action + 'static>(&mut self, handler: Handler<A>) -> &mut Self {
        let size = Arc::new(AtomicUsize::new(0));
        let call: Erased = Box::new(move |world, body, request_id| {
            let request: A::Request = decode(body)?;
            let response = handler(world, request)?;
            encode(&response, request_id, &size)
        });
        let entry = Entry {
            name: A::NAME,
            service: A::SERVICE,
            rate_limit: A::RATE_LIMIT_PER_SECOND,
            call,
        };
        self.entries.insert((A::SERVICE, A::NAME), entry);
        self
    }

    /// Like [`Registry::add`], for a handler that writes its own response JSON.
    pub fn add_encoded<A: Action + 'static>(&mut self, handler: EncodedHandler<A>) -> &mut Self {
        let size = Arc::new(AtomicUsize::new(0));
        let call: Erased = Box::new(move |world, body, request_id| {
            let request: A::Request = decode(body)?;
            encode_with(request_id, &size, |out| handler(world, request, out))
        });
        let entry = Entry {
            name: A::NAME,
            service: A::SERVICE,
            rate_limit: A::RATE_LIMIT_PER_SECOND,
            call,
        };
        self.entries.insert((A::SERVICE, A::NAME), entry);
        self
    }

    /// An action about accounts rather than a world (STS, the region service): listed here
    /// so it is admitted and rate-limited like any other, answered by `sim::accounts`.
    pub fn add_account_action<A: Action + 'static>(&mut self) -> &mut Self {
        let call: Erased =
            Box::new(|_, _, _| Err(SimError::internal("an account action has no world handler")));
        let entry = Entry {
            name: A::NAME,
            service: A::SERVICE,
            rate_limit: A::RATE_LIMIT_PER_SECOND,
            call,
        };
        self.entries.insert((A::SERVICE, A::NAME), entry);
        self
    }

    pub fn get(&self, service: Service, action: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|((s, name), _)| *s == service && *name == action)
            .map(|(_, e)| e)
    }
}

/// Reads a request body; an empty body counts as `{}` (some clients send nothing for
/// parameterless actions).
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> SimResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        SimError::new(
            "InvalidParameter",
            format!(
                "The request body is not valid JSON ({e}); send the parameters as one JSON object."
            ),
        )
    })?;
    if !value.is_object() {
        return Err(SimError::new(
            "InvalidParameter",
            "The request body must be a JSON object of parameters.",
        ));
    }
    serde_json::from_value(value).map_err(|e| parameter_error(&e.to_string()))
}

/// Maps a serde message onto the common parameter error codes (reference §3.3).
pub fn parameter_error(message: &str) -> SimError {
    let quoted = message
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_default();
    if message.starts_with("unknown field") {
        SimError::new(
            "UnknownParameter",
            format!("The parameter `{quoted}` is not recognized."),
        )
    } else if message.starts_with("missing field") {
        SimError::missing(&quoted)
    } else if message.starts_with("invalid type") {
        SimError::new(
            "InvalidParameter",
            format!("A parameter has the wrong type: {message}."),
        )
    } else {
        SimError::invalid_value(format!("A parameter has an invalid value: {message}."))
    }
}

/// Serializes `response` and splices in the `RequestId` without re-parsing (pages of 100
/// instances are the hot path of the benchmark): straight into the answer's buffer, sized
/// from `size_hint` (the last answer of the action), so a page is neither re-copied nor
/// grown step by step.
pub fn encode<T: Serialize>(
    response: &T,
    request_id: &str,
    size_hint: &AtomicUsize,
) -> SimResult<Vec<u8>> {
    encode_with(request_id, size_hint, |out| {
        serde_json::to_writer(out, response)
            .map_err(|e| SimError::internal(format!("cannot encode the response: {e}")))
    })
}

/// The envelope around the response object that `write` appends (see [`encode`]).
pub fn encode_with(
    request_id: &str,
    size_hint: &AtomicUsize,
    write: impl FnOnce(&mut Vec<u8>) -> SimResult<()>,
) -> SimResult<Vec<u8>> {
    const HEAD: &[u8] = b"{\"Response\":";
    let mut out = Vec::with_capacity(size_hint.load(Ordering::Relaxed) + 64);
    out.extend_from_slice(HEAD);
    write(&mut out)?;
    let empty = match &out[HEAD.len()..] {
        b"{}" => true,
        [b'{', .., b'}'] => false,
        _ => return Err(SimError::internal("a response must be a JSON object")),
    };
    out.pop();
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":\"");
    out.extend_from_slice(request_id.as_bytes());
    out.extend_from_slice(b"\"}}");
    size_hint.store(out.len(), Ordering::Relaxed);
    Ok(out)
}

pub fn encode_error(error: &SimError, request_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "Response": {
            "Error": {"Code": error.code, "Message": error.message},
            "RequestId": request_id,
        }
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "PascalCase")]
    struct Req {
        vpc_id: String,
        limit: Option<u64>,
    }

    #[test]
    fn serde_errors_become_the_documented_parameter_codes() {
        let code = |body: &str| decode::<Req>(body.as_bytes()).unwrap_err().code;
        assert_eq!(code(r#"{"VpcId":"v","Bogus":1}"#), "UnknownParameter");
        assert_eq!(code(r#"{}"#), "MissingParameter");
        assert_eq!(code(r#"{"VpcId":5}"#), "InvalidParameter");
        assert_eq!(code(r#"{"VpcId":"#), "InvalidParameter");
        assert_eq!(code(r#"[1]"#), "InvalidParameter");
    }

    #[test]
    fn responses_get_the_request_id_spliced_into_the_envelope() {
        let hint = AtomicUsize::new(0);
        let body = encode(
            &Req {
                vpc_id: "v".into(),
                limit: None,
            },
            "rid",
            &hint,
        )
        .unwrap();
        assert_eq!(hint.load(Ordering::Relaxed), body.len());
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["Response"]["VpcId"], "v");
        assert_eq!(value["Response"]["RequestId"], "rid");
        let empty = encode(&serde_json::json!({}), "rid", &hint).unwrap();
        assert_eq!(empty, br#"{"Response":{"RequestId":"rid"}}"#);
    }
}
