//! kho-core integration tests.

mod policy_matrix;
