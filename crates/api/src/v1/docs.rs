//! The open API's documentation page (`/api/v1/docs`): the OpenAPI document written out as
//! one self-contained HTML page (no script, no network), for the people who connect a billing
//! system or a portal.

use serde_json::Value;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `text` with `code` spans for backquoted words.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(text).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out.replace("\n\n", "</p><p>")
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or("");
            doc.pointer(&format!("/components/schemas/{name}")).unwrap_or(schema)
        }
        None => schema,
    }
}

/// A schema's type in words (`string (date-time)`, `array of Meter`, ...).
fn type_words(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or("").to_string();
    }
    let t = match s.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect::<Vec<_>>().join(" | "),
        _ => {
            if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
                return any.iter().filter(|x| x.get("type") != Some(&Value::String("null".into()))).map(type_words).collect::<Vec<_>>().join(" | ");
            }
            "object".into()
        }
    };
    let t = if t == "array" { format!("array of {}", s.get("items").map(type_words).unwrap_or_default()) } else { t };
    match s.get("format").and_then(Value::as_str) {
        Some(f) if !f.starts_with("int") && !f.starts_with("uint") && f != "double" => format!("{t} ({f})"),
        _ => t,
    }
}

fn fields_table(doc: &Value, schema: &Value, out: &mut String) {
    let s = resolve(doc, schema);
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        let _ = write!(out, "<p><code>{}</code></p>", esc(&type_words(schema)));
        return;
    };
    let required: Vec<&str> = s.get("required").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    out.push_str("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>");
    for (name, p) in props {
        let nullable = matches!(p.get("type"), Some(Value::Array(ts)) if ts.iter().any(|t| t == "null")) || p.get("anyOf").is_some();
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(name),
            if required.contains(&name.as_str()) && !nullable { "" } else { " <small>optional</small>" },
            esc(&type_words(p)),
            if nullable { " <small>or null</small>" } else { "" },
            prose(p.get("description").and_then(Value::as_str).unwrap_or("")),
        );
    }
    out.push_str("</table>");
}

/// The page, from the OpenAPI document `doc`.
pub fn docs_html(doc: &Value) -> String {
    let mut out = String::new();
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or("API");
    let version = doc.pointer("/info/version").and_then(Value::as_str).unwrap_or("");
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>\
body{{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1d2733}}\
h1{{border-bottom:3px solid #0b6e99}}h2{{margin-top:2em;text-transform:capitalize}}\
.op{{border:1px solid #d5dde5;border-radius:6px;padding:.6em 1em;margin:1em 0}}\
.m{{display:inline-block;min-width:4em;font-weight:700;color:#fff;border-radius:4px;padding:0 .5em;text-align:center}}\
.get{{background:#0b6e99}}.post{{background:#2e7d32}}table{{border-collapse:collapse;width:100%;margin:.5em 0}}\
td,th{{border-bottom:1px solid #e3e8ee;padding:.25em .5em;text-align:left;vertical-align:top}}code{{background:#f1f4f7;padding:0 .2em}}\
small{{color:#667}}nav a{{margin-right:1em}}</style></head><body><h1>{t} <small>{v}</small></h1><p>{d}</p>\
<p>The machine-readable document: <a href=\"openapi.json\">openapi.json</a> (OpenAPI 3.1).</p>",
        t = esc(title),
        v = esc(version),
        d = prose(doc.pointer("/info/description").and_then(Value::as_str).unwrap_or("")),
    );
    let tags: Vec<String> = doc.get("tags").and_then(Value::as_array).map(|a| a.iter().filter_map(|t| t["name"].as_str().map(String::from)).collect()).unwrap_or_default();
    out.push_str("<nav>");
    for t in &tags {
        let _ = write!(out, "<a href=\"#{}\">{}</a>", esc(&t.replace(' ', "-")), esc(t));
    }
    out.push_str("<a href=\"#webhooks\">webhooks</a><a href=\"#errors\">errors</a></nav>");
    let empty = serde_json::Map::new();
    let paths = doc.get("paths").and_then(Value::as_object).unwrap_or(&empty);
    for tag in &tags {
        let _ = write!(out, "<h2 id=\"{}\">{}</h2>", esc(&tag.replace(' ', "-")), esc(tag));
        for (path, item) in paths {
            for method in ["get", "post"] {
                let Some(op) = item.get(method) else { continue };
                if op["tags"][0].as_str() != Some(tag) {
                    continue;
                }
                let _ = write!(
                    out,
                    "<div class=\"op\"><p><span class=\"m {method}\">{}</span> <code>/api/v1{}</code> — <b>{}</b></p><p>{}</p>",
                    method.to_uppercase(),
                    esc(path),
                    esc(op["summary"].as_str().unwrap_or("")),
                    prose(op["description"].as_str().unwrap_or("")),
                );
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    out.push_str("<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>");
                    for p in params {
                        let _ = write!(
                            out,
                            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(p["name"].as_str().unwrap_or("")),
                            if p["required"] == true { "" } else { " <small>optional</small>" },
                            esc(p["in"].as_str().unwrap_or("")),
                            esc(&type_words(&p["schema"])),
                            prose(p["description"].as_str().unwrap_or("")),
                        );
                    }
                    out.push_str("</table>");
                }
                if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
                    out.push_str("<p><b>Body</b> (JSON)</p>");
                    fields_table(doc, body, &mut out);
                }
                if let Some((status, r)) = op["responses"].as_object().and_then(|rs| rs.iter().find(|(s, _)| s.starts_with('2'))) {
                    let _ = write!(out, "<p><b>Answer {}</b></p>", esc(status));
                    match r.pointer("/content/application~1json/schema") {
                        Some(s) => fields_table(doc, s, &mut out),
                        None => out.push_str("<p>The file's bytes.</p>"),
                    }
                }
                out.push_str("</div>");
            }
        }
    }
    if let Some(hooks) = doc.get("webhooks").and_then(Value::as_object) {
        out.push_str("<h2 id=\"webhooks\">Webhooks</h2><p>A manager registers endpoints under Settings &gt; Webhooks; Relevé POSTs these events to them as JSON <code>{id, type, created_at, data}</code>.</p>");
        for (event, item) in hooks {
            let _ = write!(
                out,
                "<div class=\"op\"><p><span class=\"m post\">POST</span> <code>{}</code></p><p>{}</p></div>",
                esc(event),
                prose(item.pointer("/post/description").and_then(Value::as_str).unwrap_or("")),
            );
        }
    }
    out.push_str("<h2 id=\"types\">Types</h2>");
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, s) in schemas {
            let _ = write!(out, "<h3 id=\"{n}\">{n}</h3>", n = esc(name));
            if let Some(d) = s.get("description").and_then(Value::as_str) {
                let _ = write!(out, "<p>{}</p>", prose(d));
            }
            fields_table(doc, s, &mut out);
        }
    }
    out.push_str("<h2 id=\"errors\">Errors</h2><table><tr><th>Status</th><th>When</th></tr>");
    for (status, words) in super::openapi::error_statuses() {
        let _ = write!(out, "<tr><td>{status}</td><td>{}</td></tr>", prose(words));
    }
    out.push_str("</table></body></html>");
    out
}
