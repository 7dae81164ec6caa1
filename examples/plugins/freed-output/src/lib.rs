//! Regression guest for the host's read of `run`'s result. Its allocator
//! overwrites every block the moment it is freed, as an allocator that hands
//! freed memory straight back out would (CPython's and many JS engines' do).
//! The bindings free the result string in the guest's post-return, which
//! wasmtime runs before the host's `call` returns: a host that reads the
//! string after that sees 0xFF bytes instead of the JSON. Used by
//! `host-api`'s tests only.
//!
//! `{"echo": V}` answers `{"echo": V, "padding": "..."}`; `{"fail": "msg"}`
//! returns `err(msg)`.

use automations_plugin::{Ctx, Error};
use serde::Deserialize;
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout, System};

/// `System`, but every freed block is filled with 0xFF (never valid UTF-8)
/// before it is released.
struct PoisonOnFree;

// SAFETY: delegates every allocation to `System`; `dealloc` writes only
// inside the block being freed, which the caller owns until the call.
unsafe impl GlobalAlloc for PoisonOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            // Volatile: a plain fill before `free` is a dead store the optimiser removes.
            for offset in 0..layout.size() {
                std::ptr::write_volatile(ptr.add(offset), 0xFF);
            }
            System.dealloc(ptr, layout)
        }
    }
}

#[global_allocator]
static ALLOCATOR: PoisonOnFree = PoisonOnFree;

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    echo: Value,
    #[serde(default)]
    fail: Option<String>,
}

fn run(input: Input, _ctx: &Ctx) -> Result<Value, Error> {
    if let Some(message) = input.fail {
        return Err(Error::new(message));
    }
    // Long enough that the allocator cannot keep it anywhere but the heap.
    Ok(json!({"echo": input.echo, "padding": "x".repeat(4096)}))
}

automations_plugin::plugin!(run);
