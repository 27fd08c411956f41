//! Hồ sơ dữ liệu — column profiles.
