//! Everything the user sees: error reports, source snippets, tables. The only module that prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod call;
pub mod check;
pub mod df;
pub mod history;
pub mod images;
pub mod progress;
pub mod prompt;
pub mod report;
pub mod snippet;
pub mod stdout;
pub mod tabwriter;
pub mod template;
pub mod time;
pub mod truncate;
pub mod units;
