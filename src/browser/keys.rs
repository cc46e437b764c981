//! Playwright key names and chords (`Enter`, `Shift+Enter`, `Control+A`) as CDP key events.
