//! Rendering diagnostics.
