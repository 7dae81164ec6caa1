//! Integration tests of automations-server (one test binary; one module per area).

mod cli;
