//! The optional record of how a telegram was read, layer by layer, for [`crate::explain`].
//! When off (the normal decoding path) nothing is formatted or allocated.

use serde::Serialize;

/// One layer as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Layer name: link, ell, ell-security, afl, tpl, tpl-security, compact, records.
    pub layer: &'static str,
    /// The CI field that opened this layer, as two hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    /// What was found, which key or layout was used, or why reading stopped.
    pub detail: String,
}

/// Collects steps when on.
pub(crate) struct Trace {
    steps: Option<Vec<Step>>,
}

impl Trace {
    pub(crate) fn off() -> Trace {
        Trace { steps: None }
    }

    pub(crate) fn on() -> Trace {
        Trace {
            steps: Some(Vec::new()),
        }
    }

    /// A fresh trace, on when this one is.
    pub(crate) fn fork(&self) -> Trace {
        if self.steps.is_some() {
            Trace::on()
        } else {
            Trace::off()
        }
    }

    pub(crate) fn append(&mut self, other: Trace) {
        if let (Some(mine), Some(theirs)) = (self.steps.as_mut(), other.steps) {
            mine.extend(theirs);
        }
    }

    /// Record a step; `detail` is only called when the trace is on.
    pub(crate) fn note(
        &mut self,
        layer: &'static str,
        ci: Option<u8>,
        detail: impl FnOnce() -> String,
    ) {
        if let Some(steps) = self.steps.as_mut() {
            steps.push(Step {
                layer,
                ci: ci.map(|c| format!("{c:02X}")),
                detail: detail(),
            });
        }
    }

    pub(crate) fn into_steps(self) -> Vec<Step> {
        self.steps.unwrap_or_default()
    }
}
