//! Unit cases of the dispatch index.
