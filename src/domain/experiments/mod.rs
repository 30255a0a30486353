//! Experiments: destination split tests on a link (`split`: variants, the visitor's
//! arm; `results`), commission experiments on a share of a program's partners
//! (`commission`), and the statistics both are judged by (`stats`).
//!
//! A destination split test or a commission experiment compares a treatment with a
//! control; the results report each arm, the difference with its interval and p-value,
//! the sample-ratio check, and the sample size the minimum detectable effect needs, and
//! name no winner before that size is reached.

pub mod commission;
pub mod results;
pub mod split;
pub mod stats;
