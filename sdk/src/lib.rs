//! Guest-side SDK for automations plugins: a plugin is a WebAssembly component
//! (target `wasm32-wasip2`) for the world `automations:plugin/action` in
//! `host-api/wit/`, and this crate turns it into one typed function:
//!
//! ```ignore
//! use automations_plugin::{Ctx, Error};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Input { lead_id: String }
//! #[derive(Serialize)]
//! struct Output { score: i64 }
//!
//! fn run(input: Input, ctx: &Ctx) -> Result<Output, Error> {
//!     let lead = ctx.get_record("lead", &input.lead_id)?.ok_or("no such lead")?;
//!     Ok(Output { score: lead["employees"].as_i64().unwrap_or(0) / 10 })
//! }
//!
//! automations_plugin::plugin!(run);
//! ```
//!
//! The crate also builds on the host target (it is a workspace member); there
//! the generated imports are stubs that panic when called, so host-target code
//! must never call [`Ctx`] methods. This crate must never grow host-only
//! behaviour or reach the world other than through the WIT imports: the
//! capabilities the host grants are the whole of a plugin's powers.

// The SDK refers to itself by its public name so that the bindings' paths work
// both here and inside the `plugin!` expansion in a plugin crate.
extern crate self as automations_plugin;

mod ctx;
mod error;

pub use ctx::{Ctx, Datetime, Email, HttpRequest, HttpResponse, Level, NewTask, RecordRef};
pub use error::Error;

/// Re-exports used by the `plugin!` expansion; not part of the stable API.
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
    pub use wit_bindgen;

    /// Decodes `input`, runs the typed plugin function and encodes its output.
    pub fn run_json<I, O>(
        input: &str,
        run: impl FnOnce(I, &crate::Ctx) -> Result<O, crate::Error>,
    ) -> Result<String, String>
    where
        I: serde::de::DeserializeOwned,
        O: serde::Serialize,
    {
        let input: I =
            serde_json::from_str(input).map_err(|err| format!("invalid plugin input: {err}"))?;
        let output = run(input, &crate::Ctx::new()).map_err(|err| err.to_string())?;
        serde_json::to_string(&output).map_err(|err| format!("cannot encode plugin output: {err}"))
    }
}

/// Raw bindings generated from the WIT world (imports and the `run` export).
#[doc(hidden)]
#[allow(unsafe_code, clippy::all, missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../host-api/wit",
        world: "action",
        pub_export_macro: true,
        export_macro_name: "__export_action",
        default_bindings_module: "automations_plugin::bindings",
        runtime_path: "automations_plugin::__private::wit_bindgen::rt",
    });
}

/// Declares the plugin's entry point: a function
/// `fn(Input, &Ctx) -> Result<Output, Error>` where `Input: DeserializeOwned`
/// and `Output: Serialize`.
#[macro_export]
macro_rules! plugin {
    ($run:path) => {
        #[doc(hidden)]
        struct __AutomationsPlugin;

        impl $crate::bindings::Guest for __AutomationsPlugin {
            fn run(input: String) -> Result<String, String> {
                $crate::__private::run_json(&input, $run)
            }
        }

        $crate::bindings::__export_action!(__AutomationsPlugin with_types_in $crate::bindings);
    };
}
