//! HAR 1.2 (W3C "HTTP Archive" draft, the format Playwright's `recordHar` and DevTools write)
//! for `network --export FILE.har`: serde types with the spec's field names, filled from the
//! captured responses (`bodies.rs`). Only what the spec requires and what we know is written;
//! unknown sizes are -1 and unknown timings are -1, as the spec says.
//!
//! Why not the `har` crate: 0.9 needs Rust 1.88 (we build on 1.85) and pulls `serde_with`'s
//! macro stack; 0.8 makes `serde_yaml` (unmaintained) mandatory. These types are write-only.

use serde::Serialize;
use serde_json::Value;

use super::bodies::CapturedResponse;
use crate::clock;

#[derive(Serialize)]
pub struct Har {
    pub log: Log,
}

#[derive(Serialize)]
pub struct Log {
    pub version: &'static str,
    pub creator: Creator,
    pub entries: Vec<Entry>,
}

#[derive(Serialize)]
pub struct Creator {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub started_date_time: String,
    /// Total time of the request, ms.
    pub time: f64,
    pub request: Request,
    pub response: Response,
    pub cache: Cache,
    pub timings: Timings,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    pub url: String,
    pub http_version: String,
    pub cookies: Vec<NameValue>,
    pub headers: Vec<NameValue>,
    pub query_string: Vec<NameValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_data: Option<PostData>,
    pub headers_size: i64,
    pub body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostData {
    pub mime_type: String,
    pub text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub status: u32,
    pub status_text: String,
    pub http_version: String,
    pub cookies: Vec<NameValue>,
    pub headers: Vec<NameValue>,
    pub content: Content,
    #[serde(rename = "redirectURL")]
    pub redirect_url: String,
    pub headers_size: i64,
    pub body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Body bytes.
    pub size: u64,
    pub mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<&'static str>,
}

#[derive(Serialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct Cache {}

/// ms per phase; -1 where not known (the spec's rule for `blocked`, `dns`, `connect`, `ssl`).
#[derive(Serialize)]
pub struct Timings {
    pub send: f64,
    pub wait: f64,
    pub receive: f64,
}

/// The captured responses as a HAR 1.2 document, its entries sorted by the time each request
/// started (the spec's preferred order, DevTools' too): they are captured as each body ends,
/// so a page's document, whose body often ends last, would otherwise follow its own
/// subresources. Equal starts keep the capture order.
pub fn from_captured(entries: &[CapturedResponse]) -> Har {
    let mut by_start: Vec<&CapturedResponse> = entries.iter().collect();
    by_start.sort_by(|a, b| a.detail.started_wall.total_cmp(&b.detail.started_wall));
    Har {
        log: Log {
            version: "1.2",
            creator: Creator {
                name: "browse",
                version: env!("CARGO_PKG_VERSION"),
            },
            entries: by_start.into_iter().map(entry).collect(),
        },
    }
}

fn entry(c: &CapturedResponse) -> Entry {
    let d = &c.detail;
    let started = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis((d.started_wall * 1000.0).max(0.0) as u64);
    let query_string = url::Url::parse(&c.url)
        .map(|u| {
            u.query_pairs()
                .map(|(name, value)| NameValue {
                    name: name.into_owned(),
                    value: value.into_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let request_type = header(&d.request_headers, "content-type");
    let (text, encoding, comment) = if c.body_truncated {
        (
            None,
            None,
            Some("body not kept (over 5 MB, or not available)"),
        )
    } else if d.base64 {
        (Some(c.body.clone()), Some("base64"), None)
    } else {
        (Some(c.body.clone()), None, None)
    };
    Entry {
        started_date_time: clock::iso8601(started),
        time: d.total_ms,
        request: Request {
            method: d.method.clone(),
            url: c.url.clone(),
            http_version: http_version(&d.http_version),
            cookies: Vec::new(),
            headers: pairs(&d.request_headers),
            query_string,
            post_data: d.post_data.clone().map(|text| PostData {
                mime_type: request_type,
                text,
            }),
            headers_size: -1,
            body_size: d.post_data.as_ref().map_or(0, |p| p.len() as i64),
        },
        response: Response {
            status: c.status,
            status_text: d.status_text.clone(),
            http_version: http_version(&d.http_version),
            cookies: Vec::new(),
            headers: pairs(&c.headers),
            content: Content {
                size: c.size,
                mime_type: c.content_type.clone(),
                text,
                encoding,
                comment,
            },
            redirect_url: header(&c.headers, "location"),
            headers_size: -1,
            body_size: c.size as i64,
        },
        cache: Cache {},
        timings: Timings {
            send: 0.0,
            wait: d.total_ms,
            receive: 0.0,
        },
    }
}

/// CDP's `protocol` (`http/1.1`, `h2`) in HAR's spelling (`HTTP/1.1`, `HTTP/2`).
fn http_version(protocol: &str) -> String {
    match protocol {
        "" => "HTTP/1.1".into(),
        "h2" => "HTTP/2".into(),
        "h3" => "HTTP/3".into(),
        other => other.to_ascii_uppercase(),
    }
}

fn pairs(headers: &serde_json::Map<String, Value>) -> Vec<NameValue> {
    headers
        .iter()
        .flat_map(|(name, value)| {
            // CDP joins repeated headers with newlines; HAR lists each.
            value
                .as_str()
                .unwrap_or("")
                .split('\n')
                .map(|v| NameValue {
                    name: name.clone(),
                    value: v.to_owned(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn header(headers: &serde_json::Map<String, Value>, name: &str) -> String {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_repeated_headers_follow_the_spec() {
        assert_eq!(http_version("http/1.1"), "HTTP/1.1");
        assert_eq!(http_version("h2"), "HTTP/2");
        let mut headers = serde_json::Map::new();
        headers.insert("set-cookie".into(), Value::String("a=1\nb=2".into()));
        let listed = pairs(&headers);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].value, "b=2");
    }

    /// A document whose body ended after its stylesheet's was captured second; the HAR lists
    /// it first, as its request started first.
    #[test]
    fn entries_are_in_the_order_their_requests_started() {
        let captured = |url: &str, started_wall: f64| CapturedResponse {
            url: url.to_owned(),
            status: 200,
            headers: serde_json::Map::new(),
            body: String::new(),
            content_type: "text/plain".to_owned(),
            timestamp: 0,
            size: 0,
            body_truncated: false,
            detail: crate::browser::bodies::Detail {
                started_wall,
                ..Default::default()
            },
        };
        let har = from_captured(&[
            captured("http://127.0.0.1/style.css", 1_700_000_000.2),
            captured("http://127.0.0.1/index.html", 1_700_000_000.1),
            captured("http://127.0.0.1/font.woff2", 1_700_000_000.3),
        ]);
        let urls: Vec<&str> = har
            .log
            .entries
            .iter()
            .map(|e| e.request.url.as_str())
            .collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1/index.html",
                "http://127.0.0.1/style.css",
                "http://127.0.0.1/font.woff2"
            ]
        );
    }
}
