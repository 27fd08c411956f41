//! Integration tests of kho-quality.
