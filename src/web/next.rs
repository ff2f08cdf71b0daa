//! Where to go after a detour (`?next=`), shared by every page that signs someone in.

/// `next` when it is a path on this site, `/` otherwise.
pub fn safe_next(next: Option<&str>) -> &str {
    // Browsers drop tabs and newlines and read `\` as `/`, so `/\t/evil.example` would leave
    // the site: only plain visible characters, one leading slash.
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(safe_next(Some("/teams/acme?x=1")), "/teams/acme?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
