//! Experiments: destination split tests on a link (`split`: variants, the visitor's
//! arm) and the statistics their results are judged by (`stats`).
//!
//! A destination split test or a commission experiment compares a treatment with a
//! control; the results report each arm, the difference with its interval and p-value,
//! the sample-ratio check, and the sample size the minimum detectable effect needs, and
//! name no winner before that size is reached.

pub mod results;
pub mod split;
pub mod stats;
