//! Long-running work (imports) started by one call and followed by polling another. A
//! task's id is random (128 bits, hex) and only its owner (the user who started it) reads it.

use crate::ApiError;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize)]
pub struct TaskState {
    pub state: &'static str,
    pub processed_lines: u64,
    pub total_lines: u64,
    pub report: Option<serde_json::Value>,
    pub error: Option<ApiError>,
}

pub type Task = Arc<Mutex<TaskState>>;

#[derive(Default)]
pub struct Tasks {
    /// id -> (owner's user id, task).
    running: Mutex<HashMap<String, (i64, Task)>>,
}

impl Tasks {
    /// A new running task of the user `owner`: its id (`import-` and 32 hex digits) and state.
    pub fn start(&self, owner: i64, total_lines: u64) -> (String, Task) {
        let id = format!("import-{}", crate::random_hex(16));
        let task = Arc::new(Mutex::new(TaskState {
            state: "running",
            processed_lines: 0,
            total_lines,
            report: None,
            error: None,
        }));
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), (owner, task.clone()));
        (id, task)
    }

    /// The state of the task `id` if the user `owner` started it (another's is not found).
    pub fn get(&self, owner: i64, id: &str) -> Option<TaskState> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let (_, task) = running.get(id).filter(|(o, _)| *o == owner)?;
        let state = task.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some(state)
    }
}
