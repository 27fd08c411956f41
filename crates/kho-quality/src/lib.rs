//! Chất lượng dữ liệu — data quality: declarative checks per table ([`rules`]), the SQL
//! that runs them in one pass ([`plan`]), what they found ([`result`]), column profiles
//! with suggested checks ([`profile`]), the cleaning step's transforms and change
//! report ([`clean`]), and the six-criteria score ([`score`]). No IO: the server runs
//! the SQL on the warehouse and keeps the results.

pub mod clean;
pub mod plan;
pub mod profile;
pub mod result;
pub mod rules;
pub mod score;
pub mod shape;

pub use plan::{CodeLists, Dialect, Plan};
pub use result::{CheckResult, Observed};
pub use rules::{Check, Criterion, Format, Rule, RuleError, RuleSet, Severity};
pub use score::{Evidence, Scores, Sharing};
pub use shape::{Column, ColumnKind, TableShape};
