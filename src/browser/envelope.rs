//! gstack's untrusted-content envelope around page content, off by default.
