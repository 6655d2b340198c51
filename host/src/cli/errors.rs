//! How the `mmm` command prints a failure: the error, then each cause that
//! adds something. Many errors already carry their source in their own
//! message (`loading X: <source>`), so printing every link of the chain
//! showed the same text two or three times.

/// The lines printed for `error`, without the leading `Error: `.
pub fn describe(error: &anyhow::Error) -> String {
    let mut out = error.to_string();
    let mut shown = out.clone();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        // `std::io::Error` ends its text with the OS code, which wrappers
        // that quote its message leave out.
        let core = text.split(" (os error ").next().unwrap_or(&text);
        if shown.contains(core) {
            continue;
        }
        out.push_str("\n  caused by: ");
        out.push_str(&text);
        shown.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("loading the policy: {0}")]
    struct Wrapping(#[source] std::io::Error);

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(Wrapping(io)).context("invalid RBAC policy");
        assert_eq!(
            describe(&error),
            "invalid RBAC policy\n  caused by: loading the policy: no such file"
        );
        let plain = anyhow::anyhow!("root").context("outer");
        assert_eq!(describe(&plain), "outer\n  caused by: root");
    }
}
