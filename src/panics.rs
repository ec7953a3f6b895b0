//! What a caught panic says. The server, the worker and the NATS service
//! catch panics so that one bad input never ends the process; this is how
//! they name what went wrong.

/// The message a panic was raised with, or "unknown panic".
pub fn message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_string_and_str_panics() {
        let caught = std::panic::catch_unwind(|| panic!("at {}", 3)).unwrap_err();
        assert_eq!(super::message(&*caught), "at 3");
        let caught = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(super::message(&*caught), "plain");
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(super::message(&*caught), "unknown panic");
    }
}
