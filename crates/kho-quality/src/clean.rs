//! Làm sạch — the cleaning step's transforms and change report.
