//! The `openidconnect` crate's HTTP client, on the portal's reqwest: one HTTP stack in the
//! binary. Redirects are never followed (the crate's advice: a redirect from a token
//! endpoint could leak the code or the client secret to another host).

use std::{future::Future, pin::Pin};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The portal's reqwest client as the crate's HTTP client.
pub struct Http(pub reqwest::Client);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(call(&self.0, request))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Reqwest(#[from] reqwest::Error),
    #[error("{0}")]
    Http(#[from] openidconnect::http::Error),
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .expect("a reqwest client with rustls builds")
}

/// One request of the crate, sent with `client`.
pub async fn call(
    client: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    let mut out = openidconnect::http::Response::builder()
        .status(status)
        .body(body)?;
    *out.headers_mut() = headers;
    Ok(out)
}

/// A short description of a failed request for an operator: which kind of failure, without
/// the URL's query (which could hold a code).
pub fn describe(e: &HttpError) -> String {
    match e {
        HttpError::Reqwest(e) if e.is_connect() => "the connection was refused or failed".into(),
        HttpError::Reqwest(e) if e.is_timeout() => "the request timed out".into(),
        HttpError::Reqwest(e) => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                source = inner.source();
            }
            s
        }
        HttpError::Http(e) => e.to_string(),
    }
}
