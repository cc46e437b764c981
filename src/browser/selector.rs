//! Resolving a selector argument (CSS, `text=`, `xpath=`, `//…`, or an `@eN`/`@cN` ref) to
//! exactly one element, with Playwright's auto-wait, strictness and actionability rules.
