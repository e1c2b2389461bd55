//! `GET /api/events`: the live screen's server push, as Server-Sent Events. One thread waits
//! on the store's change signal (`Ctx::wait_changes`: this process's imports and pushes at
//! once, other processes' writes within about half a second) and hands each change to every
//! open stream, which sends `event: changes` with `{"generation", "meters": [ids], "all"}`.
//!
//! The session is checked before anything is streamed (EventSource cannot set a header: the
//! token comes as `?token=`, or the cookie `releve_token`), again before each event (a
//! stream ends with its session), at most [`MAX_STREAMS`] streams are open at once (503
//! `busy` past that), and a comment line every [`HEARTBEAT`] keeps proxies from closing an
//! idle stream and lets a closed one be noticed.

use crate::serve::{answer, App, Logged};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use releve_api::ApiError;
use releve_core::store::Changed;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// At most this many event streams open at once.
pub const MAX_STREAMS: usize = 64;
/// A heartbeat (an SSE comment) after this long without an event.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The changes handed to the open streams, and how many are open.
pub(crate) struct Hub {
    sender: broadcast::Sender<Changed>,
    open: AtomicUsize,
}

impl Default for Hub {
    fn default() -> Hub {
        // A stream more than 256 changes behind is told to read everything (`all`).
        Hub { sender: broadcast::channel(256).0, open: AtomicUsize::new(0) }
    }
}

/// Start the thread that waits on the store's changes and hands them to the streams.
pub(crate) fn watch(app: Arc<App>) {
    let spawned = std::thread::Builder::new().name("changes".into()).spawn(move || {
        let mut generation = app.ctx.changes_generation();
        loop {
            let changed = app.ctx.wait_changes(generation, Duration::from_secs(60));
            if changed.generation != generation {
                generation = changed.generation;
                // No stream open: nobody to tell.
                let _ = app.events.sender.send(changed);
            }
        }
    });
    if let Err(e) = spawned {
        eprintln!("releve serve: no live events (cannot start their thread: {e})");
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct EventsQuery {
    token: Option<String>,
}

/// A place among the [`MAX_STREAMS`], given back when its stream ends.
struct Place(Arc<App>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.events.open.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Stream {
    receiver: broadcast::Receiver<Changed>,
    place: Place,
    token: Option<String>,
}

pub(crate) async fn events(
    State(app): State<Arc<App>>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token).or_else(|| cookie(&headers, "releve_token"));
    let user = match app.ctx.session_login(token.as_deref()) {
        Ok(login) => login,
        Err(e) => return answer(Err(e), None),
    };
    let taken = app.events.open.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_STREAMS).then_some(n + 1));
    if taken.is_err() {
        return answer(Err(ApiError::new("busy", format!("at most {MAX_STREAMS} live connections at once"))), Some(user));
    }
    let place = Place(app.clone());
    // Subscribed before the generation is read: no change falls between the two.
    let receiver = app.events.sender.subscribe();
    let ready = changes_event("ready", &Changed { generation: app.ctx.changes_generation(), meters: Vec::new(), all: false });
    let state = Stream { receiver, place, token };
    let stream = stream::once(async move { Ok::<Event, Infallible>(ready) }).chain(stream::unfold(state, next));
    let mut response = Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")).into_response();
    response.extensions_mut().insert(Logged { user: Some(user), cause: None });
    response
}

/// The stream's next event; none once its session is gone or the server stops.
async fn next(mut s: Stream) -> Option<(Result<Event, Infallible>, Stream)> {
    let changed = match s.receiver.recv().await {
        Ok(changed) => changed,
        Err(RecvError::Lagged(_)) => {
            Changed { generation: s.place.0.ctx.changes_generation(), meters: Vec::new(), all: true }
        }
        Err(RecvError::Closed) => return None,
    };
    s.place.0.ctx.session_login(s.token.as_deref()).ok()?;
    Some((Ok(changes_event("changes", &changed)), s))
}

fn changes_event(name: &str, changed: &Changed) -> Event {
    let data = serde_json::to_string(changed).unwrap_or_else(|_| "{}".into());
    Event::default().event(name).data(data)
}

/// The value of cookie `name`, if the request sends it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
