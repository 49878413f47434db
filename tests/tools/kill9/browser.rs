//! The minimum of the portal tests' `Browser` (tests/portal/harness.rs) for a portal that runs
//! as another process: keeps the cookies (pre-session, then session) and the last page's CSRF
//! token, and posts forms the way the pages do.

use std::collections::BTreeMap;

use reqwest::{StatusCode, header};
use scraper::{Html, Selector};

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(css).unwrap();
        Html::parse_document(&self.body)
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(attr).map(str::to_owned))
    }

    /// The text of every element matching `css`, in document order.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let sel = Selector::parse(css).unwrap();
        Html::parse_document(&self.body)
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    /// The text of the first element matching `css`, if any.
    pub fn text(&self, css: &str) -> Option<String> {
        self.texts(css).into_iter().next()
    }
}

pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    csrf: Option<String>,
}

impl Browser {
    /// A browser of the portal at `base` (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = match cookies.is_empty() {
            true => req,
            false => req.header(header::COOKIE, cookies.join("; ")),
        };
        let resp = req.send().await.unwrap();
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            match value.is_empty() {
                true => self.cookies.remove(name),
                false => self.cookies.insert(name.to_owned(), value.to_owned()),
            };
        }
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let page = Page {
            status,
            location,
            body: resp.text().await.unwrap(),
        };
        if let Some(token) = page
            .attr("meta[name=csrf-token]", "content")
            .filter(|t| !t.is_empty())
        {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// Posts a form as the pages do: same origin, with the last page's CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, &self.base)
            .form(&form);
        self.send(req).await
    }

    /// Opens the run page's live event stream (`/runs/{id}/events`), as the page's htmx does.
    pub async fn stream(&self, path: &str) -> Stream {
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, cookies.join("; "))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        Stream {
            resp,
            buffer: String::new(),
        }
    }

    /// Signs in; panics unless the portal accepts the password.
    pub async fn login(&mut self, name: &str, password: &str) {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let done = self
            .post("/login", &[("name", name), ("password", password)])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "login: {}", done.body);
    }
}

/// A Server-Sent Events stream as a browser reads it.
pub struct Stream {
    resp: reqwest::Response,
    buffer: String,
}

/// One message of a stream.
#[derive(Debug)]
pub enum Message {
    /// A `progress` message: the run's live fragment.
    Progress(String),
    /// `done`: the run no longer holds its VPC; the stream ends after it.
    Done,
}

impl Stream {
    /// The next message (keep-alive comments skipped); None once the stream has ended.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut event = "message";
                let mut data = Vec::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                match event {
                    "progress" => return Some(Message::Progress(data.join("\n"))),
                    "done" => return Some(Message::Done),
                    _ => continue,
                }
            }
            let chunk = self.resp.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads fragments until one satisfies `want` (within the test budget); returns it.
    pub async fn until(&mut self, what: &str, want: impl Fn(&Page) -> bool) -> Page {
        let found = tokio::time::timeout(crate::common::BUDGET, async {
            while let Some(m) = self.next().await {
                if let Message::Progress(html) = m {
                    let page = Page {
                        status: StatusCode::OK,
                        location: None,
                        body: html,
                    };
                    if want(&page) {
                        return Some(page);
                    }
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(page)) => page,
            Ok(None) => panic!("the stream ended before {what}"),
            Err(_) => panic!("timed out waiting on the stream for {what}"),
        }
    }
}
