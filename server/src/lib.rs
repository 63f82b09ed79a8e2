//! permitseal server: Management Authorities issue and revoke signed CITES permits; officers'
//! phones sync the signed trust list and status lists and report scans; importing authorities
//! confirm and look up usage.
//!
//! `main.rs` only parses the command line and calls [`cli::run`]. Tests start the service with
//! [`startup::launch`] on a listener bound to port 0.

pub mod annual_report;
pub mod checklist;
pub mod cli;
pub mod clock;
pub mod crypto;
pub mod demo;
pub mod document;
pub mod domain;
pub mod exchange;
pub mod http;
pub mod metrics;
pub mod model;
pub mod notify;
mod parse_errors;
pub mod startup;
pub mod state;
pub mod storage;
pub mod sync_cache;
pub mod views;
pub mod webhooks;

pub use startup::{ServeConfig, launch, open_state};
pub use state::AppState;
