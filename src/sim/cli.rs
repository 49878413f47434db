//! `natpilot sim` arguments (issue 3 item 5).
