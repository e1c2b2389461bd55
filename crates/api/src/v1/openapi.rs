//! The OpenAPI 3.1 document of the open API, built from [`super::OPERATIONS`] and the JSON
//! Schemas of the core's types: what the server routes is what is documented.

use super::{Answer, Method, Operation, OPERATIONS};
use releve_core::access::scope_of;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

/// The error statuses every operation may answer, with what they mean.
const ERRORS: &[(u16, &str)] = &[
    (400, "The request is not valid: `params.field` names the parameter (`bad_input`), or the data refuses it (an exchange: `final_below_last`, `meter_already_removed`, ...)."),
    (401, "No API key, or one that is unknown, revoked or expired (`wrong_api_key`)."),
    (403, "The key lacks the operation's scope (`scope_missing`) or the permission (`forbidden`, `intervals_not_allowed`)."),
    (404, "No such meter, customer or export within the key's reach (`not_found`)."),
    (409, "The request conflicts with the state of things (`not_ready`, `export_failed`, `not_configured`)."),
    (413, "The body is too large (`too_large`)."),
    (429, "More calls than the key's rate (`rate_limited`): wait `Retry-After` seconds."),
    (503, "The store is busy with a long write: try again (`busy`)."),
];

/// The error statuses and what they mean (for the documentation page).
pub fn error_statuses() -> &'static [(u16, &'static str)] {
    ERRORS
}

/// The document, as JSON.
pub fn document(version: &str) -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
        })
        .into_generator();
    let mut paths = Map::new();
    for op in OPERATIONS {
        let item = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        item[op.method.as_str()] = operation(&mut g, op);
    }
    let mut schemas = g.take_definitions(true);
    schemas.insert("Problem".into(), problem_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Relevé open API",
            "version": version,
            "description": "Meters, customers, readings and info codes of a Relevé meter park for billing systems and consumer portals. \
Authenticate with an API key created by a manager (Settings > API keys): `Authorization: Bearer rlv_...`. \
Each operation needs a scope of the key; a key may be limited to groups of meters or to one customer. \
Times are ISO 8601 with the utility's offset; lists are paged by keyset (`after` = the previous page's `next`). \
Errors are RFC 9457 problem details (`application/problem+json`) with the same `code` and `params` as Relevé's own screens. \
GET answers carry an `ETag`; send it back in `If-None-Match` to get 304 when nothing changed. \
Webhooks (new readings, info codes, finished exports) are signed with HMAC-SHA256: see `webhooks` in this document.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}],
        "tags": tags(),
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (`rlv_` and 64 hex digits), shown once when a manager creates it."}
            },
            "schemas": schemas,
        },
    })
}

fn tags() -> Value {
    let mut seen: Vec<&str> = Vec::new();
    for op in OPERATIONS {
        if !seen.contains(&op.tag) {
            seen.push(op.tag);
        }
    }
    Value::Array(seen.into_iter().map(|t| json!({"name": t})).collect())
}

fn operation(g: &mut schemars::SchemaGenerator, op: &Operation) -> Value {
    let scope = scope_of(op.name).map(|s| s.as_str()).unwrap_or("");
    let mut parameters: Vec<Value> = op
        .path_params
        .iter()
        .map(|(name, description)| {
            json!({
                "name": name, "in": "path", "required": true, "description": description,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            })
        })
        .collect();
    if let Some(q) = op.query {
        let root = q(g);
        parameters.extend(query_parameters(&root.to_value()));
    }
    let mut responses = Map::new();
    let success = match op.answer {
        Answer::Json(f) => {
            let s = f(g).to_value();
            let mut r = json!({"description": "Done.", "content": {"application/json": {"schema": s}}});
            if op.method == Method::Get {
                r["headers"] = json!({"ETag": {"description": "The answer's version, for `If-None-Match`.", "schema": {"type": "string"}}});
            }
            r
        }
        Answer::File => json!({
            "description": "The file.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }),
    };
    responses.insert(op.status.to_string(), success);
    if op.method == Method::Get {
        responses.insert("304".into(), json!({"description": "Not modified since the `ETag` sent in `If-None-Match`."}));
    }
    for (status, description) in ERRORS {
        let mut r = json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        });
        if *status == 429 {
            r["headers"] = json!({"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}});
        }
        responses.insert(status.to_string(), r);
    }
    if op.name.ends_with("_feed") {
        responses.insert(
            "410".into(),
            json!({
                "description": "The cursor is older than the feed keeps (`cursor_expired`, `params.oldest`): read the resource itself to catch up, then follow the feed from `oldest`.",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }),
        );
    }
    if let Some(links) = links(op.name) {
        if let Some(r) = responses.get_mut(&op.status.to_string()) {
            r["links"] = links;
        }
    }
    let mut o = json!({
        "operationId": op.name.trim_start_matches("v1_"),
        "tags": [op.tag],
        "summary": op.summary,
        "description": format!("{}\n\nScope: `{scope}`.", op.description),
        "security": [{"apiKey": [scope]}],
        "x-scope": scope,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(b) = op.body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": b(g).to_value()}}});
    }
    o
}

/// The events Relevé POSTs to the endpoints a manager registers (Settings > Webhooks);
/// crates/api/WEBHOOKS.md is the receiver's guide.
const EVENTS: &[(&str, &str)] = &[
    ("readings.batch", "Readings were stored (an import, a push, a bus read); sent 5 s after the first of them, so a steady stream gives an event every few seconds. `data`: `after`, `until` — the readings feed range `(after, until]`: pull `/readings/feed?after=<after>` until you pass `until`; `readings`, `meters` (how many), `first_reading_at`, `last_reading_at`, `meter_list` (at most 500), `feed`. The next event's `after` is this one's `until`."),
    ("info_code.started", "An info code started on a meter. `data`: `seq` (in the info codes feed), `meter` `{id, manufacturer, serial}`, `code`, `started_at`, `feed`."),
    ("export.done", "A scheduled export's run finished (each attempt). `data`: `run`, `job`, `layout`, `status` (`ok`, `failed`), `trigger`, `attempt`, `period_from`, `period_to`, `started_at`, `finished_at`, `file`, `rows`, `bytes`, `sha256`, `error`."),
    ("ping", "A manager pressed \"Send a test\". `data`: `webhook`, `sent_by`."),
];

fn webhooks() -> Value {
    let mut out = Map::new();
    for (event, description) in EVENTS {
        out.insert(
            event.to_string(),
            json!({"post": {
                "summary": format!("Event {event}"),
                "description": format!("{description}\n\nSigned: `Releve-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 keyed with the endpoint's secret of \"<t>.<body>\">`. Answer 2xx within 10 s; otherwise retried after 30 s, 2 min, 10 min, 1 h and 6 h."),
                "parameters": [
                    {"name": "Releve-Event", "in": "header", "required": true, "schema": {"type": "string", "const": event}},
                    {"name": "Releve-Delivery", "in": "header", "required": true, "description": "This endpoint's delivery (the same at every attempt).", "schema": {"type": "string"}},
                    {"name": "Releve-Signature", "in": "header", "required": true, "schema": {"type": "string"}},
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["id", "type", "created_at", "data"],
                    "properties": {
                        "id": {"type": "string", "description": "The event (the same for every endpoint and attempt)."},
                        "type": {"type": "string", "const": event},
                        "created_at": {"type": "string", "format": "date-time"},
                        "data": {"type": "object"},
                    },
                }}}},
                "responses": {"2XX": {"description": "Received."}},
            }}),
        );
    }
    Value::Object(out)
}

/// Where an answer leads (OpenAPI links): the first meter of a page to its detail and
/// readings, a customer to its consumption, a started export to its state and file, a
/// feed page to the next.
fn links(name: &str) -> Option<Value> {
    let link = |op: &str, params: Value| json!({"operationId": op, "parameters": params});
    Some(match name {
        "v1_meters_list" => json!({
            "meter": link("meter_get", json!({"serial": "$response.body#/items/0/serial"})),
            "readings": link("meter_readings", json!({"serial": "$response.body#/items/0/serial"})),
            "next": link("meters_list", json!({"after": "$response.body#/next"})),
        }),
        "v1_customers_list" => json!({
            "customer": link("customer_get", json!({"number": "$response.body#/items/0/number"})),
            "consumption": link("customer_consumption", json!({"number": "$response.body#/items/0/number"})),
        }),
        "v1_readings_feed" => json!({"next": link("readings_feed", json!({"after": "$response.body#/next"}))}),
        "v1_info_codes_feed" => json!({"next": link("info_codes_feed", json!({"after": "$response.body#/next"}))}),
        "v1_export_start" => json!({
            "state": link("export_get", json!({"id": "$response.body#/id"})),
            "file": link("export_file", json!({"id": "$response.body#/id"})),
        }),
        _ => return None,
    })
}

/// The query parameters of a query type's schema: one per property, its description moved
/// to the parameter, `null` taken out of its type (a query value is absent, never null).
pub fn query_parameters(root: &Value) -> Vec<Value> {
    let required: Vec<&str> = root.get("required").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(props) = root.get("properties").and_then(Value::as_object) else { return Vec::new() };
    props
        .iter()
        .map(|(name, schema)| {
            let mut schema = schema.clone();
            let description = schema.as_object_mut().and_then(|o| o.remove("description")).unwrap_or(Value::Null);
            if let Some(t) = schema.get_mut("type") {
                if let Value::Array(types) = t {
                    types.retain(|x| x != "null");
                    if types.len() == 1 {
                        *t = types[0].clone();
                    }
                }
            }
            // Integers and sizes as plain integers (formats like `uint` mean nothing to clients).
            if let Some(o) = schema.as_object_mut() {
                if o.get("format").and_then(Value::as_str).is_some_and(|f| f.starts_with("uint") || f.starts_with("int")) {
                    o.remove("format");
                }
            }
            let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema});
            if !description.is_null() {
                p["description"] = description;
            }
            p
        })
        .collect()
}

/// The type of a query parameter of command `name` (`integer`, `boolean`, `string`), for the
/// HTTP front to type the values of a query string.
pub fn query_types(name: &str) -> Vec<(String, String)> {
    let Some(op) = super::operation(name) else { return Vec::new() };
    let Some(q) = op.query else { return Vec::new() };
    let mut g = SchemaSettings::draft2020_12().into_generator();
    query_parameters(&q(&mut g).to_value())
        .into_iter()
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_string();
            let t = p["schema"]["type"].as_str().unwrap_or("string").to_string();
            Some((name, t))
        })
        .collect()
}

/// RFC 9457 problem details, with Relevé's `code` and `params`.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error (RFC 9457). `code` is stable; `params` hold the values it is worded with (the same as Relevé's screens).",
        "required": ["type", "title", "status", "code", "params"],
        "properties": {
            "type": {"type": "string", "description": "A URI naming the error: `urn:releve:error:<code>`."},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "The English wording."},
            "instance": {"type": "string"},
            "code": {"type": "string"},
            "params": {"type": "object"},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of a value, recursively.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_covers_every_operation_and_resolves() {
        let doc = document("test");
        let mut ids = Vec::new();
        for op in OPERATIONS {
            let o = &doc["paths"][op.path][op.method.as_str()];
            assert!(o.is_object(), "{} {} documented", op.method.as_str(), op.path);
            assert!(scope_of(op.name).is_some(), "{}: a scope in access::SCOPED", op.name);
            assert!(releve_core::access::rule(op.name).is_some(), "{}: a row in access::COMMANDS", op.name);
            let id = o["operationId"].as_str().expect("operationId").to_string();
            assert!(!ids.contains(&id), "{id} twice");
            ids.push(id);
            // Path parameters named in the path are declared, and only those.
            let declared: Vec<&str> = o["parameters"].as_array().expect("parameters").iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect();
            let in_path: Vec<&str> = op.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
            assert_eq!(declared, in_path, "{}", op.path);
        }
        for (name, _) in releve_core::access::SCOPED {
            assert!(super::super::operation(name).is_some(), "{name} scoped but not an operation");
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").expect("a component");
            assert!(doc["components"]["schemas"][name].is_object(), "{r} resolves");
        }
        // Links name operations that exist.
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                for r in op["responses"].as_object().expect("responses").values() {
                    for link in r["links"].as_object().into_iter().flat_map(|l| l.values()) {
                        let target = link["operationId"].as_str().expect("operationId");
                        assert!(ids.iter().any(|i| i == target), "link to {target}");
                    }
                }
            }
        }
    }
}
