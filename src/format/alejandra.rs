//! The `alejandra` style: the alejandra crate, in process.

use super::{contained, FormatError, Formatter, Style};

pub struct Alejandra;

impl Formatter for Alejandra {
    fn style(&self) -> Style {
        Style::Alejandra
    }

    fn format(&self, text: &str) -> Result<String, FormatError> {
        let (status, output) = contained(Style::Alejandra, || {
            let (status, output) = alejandra::format::in_memory(String::new(), text.to_string());
            (status, output)
        })?;
        match status {
            alejandra::format::Status::Changed(_) => Ok(output),
            alejandra::format::Status::Error(message) => Err(FormatError::Unsupported {
                style: Style::Alejandra,
                message,
            }),
        }
    }
}
