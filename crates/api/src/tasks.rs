//! Long-running work (imports) started by one call and followed by polling another.

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
    next: Mutex<u64>,
    running: Mutex<HashMap<String, Task>>,
}

impl Tasks {
    pub fn start(&self, total_lines: u64) -> (String, Task) {
        let id = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            format!("import-{}", *next)
        };
        let task = Arc::new(Mutex::new(TaskState {
            state: "running",
            processed_lines: 0,
            total_lines,
            report: None,
            error: None,
        }));
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), task.clone());
        (id, task)
    }

    pub fn get(&self, id: &str) -> Option<TaskState> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let task = running.get(id)?;
        let state = task.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Some(state)
    }
}
